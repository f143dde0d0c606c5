import { describe, expect, it } from 'vitest';
import type { DeploymentJson } from '../../api-contract/index.ts';
import { deploymentLine } from './deploy-text.ts';

const query = 'sum(rate(errors_total{region="{{region}}",build="{{build}}"}[1m]))';
const wave = (regions: string[], status: DeploymentJson['waves'][number]['status'], gate?: DeploymentJson['waves'][number]['gate']) => ({
  regions,
  status,
  writtenAt: '2026-12-08T03:00:00.000Z',
  doneAt: null,
  goals: {},
  ...(gate ? { gate } : {}),
});

describe('deployment show: metric gates', () => {
  it('prints each gated wave: its values and rule while holding or passed, the reason when it failed', () => {
    const since = '2026-12-08T03:00:10.000Z';
    const d: DeploymentJson = {
      id: 'd7',
      service: 'api',
      build: 'b42',
      regions: ['eu', 'us'],
      kind: 'deploy',
      requestedBy: 'alice',
      reason: '',
      status: 'FAILED',
      createdAt: '2026-12-08T03:00:00.000Z',
      error: 'wave 2 (us) failed: …',
      waves: [
        wave(['eu'], 'CONVERGED', { query, max: 0.5, holdMs: 300_000, since, status: 'PASSED', values: { eu: 0.02 }, checkedAt: since }),
        wave(['us'], 'FAILED', { query, max: 0.5, holdMs: 300_000, since, status: 'FAILED', values: { us: 3.2 }, checkedAt: since, reason: 'metric gate: … = 3.2 in us, above 0.5' }),
      ],
      convergedAt: null,
      rollback: 'd8',
      spooled: false,
      replayed: false,
    };
    expect(deploymentLine(d).split('\n')).toEqual([
      'd7: deployed api to b42 in eu, us — FAILED',
      'waves: eu (CONVERGED) → us (FAILED)',
      `metric gate, wave 1: PASSED: eu 0.02 (at most 0.5 for 5m of ${query})`,
      'metric gate, wave 2: FAILED: metric gate: … = 3.2 in us, above 0.5',
    ]);
    d.waves = [wave(['eu', 'us'], 'WRITTEN', { query, max: 1, holdMs: 60_000, since, status: 'HOLDING', values: { eu: null, us: 0 }, checkedAt: since, reason: 'no data for …' })];
    expect(deploymentLine(d)).toContain(`metric gate, wave 1: HOLDING: eu no value, us 0 (at most 1 for 1m of ${query}); no data for …`);
  });
});
