import { describe, expect, it } from 'vitest';
import { isFleetcastError } from '../../errors/index.ts';
import { renderGateQuery, unknownPlaceholders } from './metric-gate.ts';
import { validateServiceSpec } from './service.ts';

const base = { name: 'api', repo: '/srv/git/api', buildCommand: 'make', artifactPath: 'out/api' };

describe('metric gate query templates', () => {
  it('fills in region, build and service, spaces inside the braces allowed, every occurrence', () => {
    const template = 'sum(rate(errors_total{region="{{region}}",build="{{ build }}",job="{{service}}"}[1m])) / sum(rate(requests_total{region="{{region}}"}[1m]))';
    expect(renderGateQuery(template, { region: 'eu', build: 'b42', service: 'api' })).toBe(
      'sum(rate(errors_total{region="eu",build="b42",job="api"}[1m])) / sum(rate(requests_total{region="eu"}[1m]))',
    );
  });

  it('leaves PromQL braces alone and names unknown placeholders', () => {
    expect(renderGateQuery('up{job="x"}', { region: 'eu', build: 'b1', service: 'api' })).toBe('up{job="x"}');
    expect(unknownPlaceholders('x{region="{{region}}",m="{{machine}}",b="{{Build}}"}')).toEqual(['machine', 'Build']);
    expect(unknownPlaceholders('x{region="{{region}}"}')).toEqual([]);
  });

  it('a service gate with an unknown placeholder is refused with what may be used; the hold defaults to 1 min', () => {
    const refusal = (() => {
      try {
        validateServiceSpec({ ...base, metricGate: { query: 'up{m="{{machine}}"}', max: 1 } });
      } catch (err) {
        return err;
      }
    })();
    expect(isFleetcastError(refusal, 'INVALID_INPUT')).toBe(true);
    expect((refusal as Error).message).toContain('unknown placeholder {{machine}}: the query may use {{region}}, {{build}} and {{service}}');
    expect(validateServiceSpec({ ...base, metricGate: { query: 'up', max: 0 } }).metricGate).toEqual({ query: 'up', max: 0, holdMs: 60_000 });
    expect(validateServiceSpec(base).metricGate).toBeNull();
    expect(() => validateServiceSpec({ ...base, metricGate: { query: ' ', max: 1 } })).toThrow(/give the PromQL query/);
  });
});
