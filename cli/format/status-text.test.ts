import { describe, expect, it } from 'vitest';
import type { ConvergenceJson, ServiceStatusJson } from '../../api-contract/index.ts';
import { reportedDigestText, statusText } from './status-text.ts';

const goalDigest = 'a'.repeat(64);
const convergence = (extra: Partial<ConvergenceJson> = {}): ConvergenceJson => ({
  region: 'eu',
  service: 'api',
  goalBuild: 'b42',
  goalDigest,
  goalSeq: 7,
  goalShare: null,
  machines: 10,
  running: 10,
  mismatched: 0,
  refused: { machines: 0, codes: {}, examples: [] },
  downloading: { machines: 0, bytes: 0, total: 0 },
  failed: { machines: 0, examples: [] },
  silent: 0,
  other: 0,
  runningBuilds: { b42: 10 },
  holding: 0,
  runningDigests: [{ build: 'b42', digest: goalDigest, machines: 10 }],
  converged: true,
  known: true,
  ...extra,
});

describe('fleetcast status text', () => {
  it('says the digest running machines report: the goal\'s, or each one with ≠ goal', () => {
    expect(reportedDigestText(convergence())).toBe('aaaaaaaaaaaa = goal');
    const forged = convergence({ runningDigests: [{ build: 'b42', digest: goalDigest, machines: 9 }, { build: 'b42', digest: 'e'.repeat(64), machines: 1 }, { build: 'b41', digest: 'f'.repeat(64), machines: 3 }] });
    expect(reportedDigestText(forged)).toBe('aaaaaaaaaaaa ×9, eeeeeeeeeeee ×1 ≠ goal');
    expect(reportedDigestText(convergence({ runningDigests: [{ build: 'b41', digest: 'f'.repeat(64), machines: 3 }] }))).toBe('-');
  });

  it('has a column per count: running of those reporting, holding, failed, silent', () => {
    const status = {
      service: 'api',
      lock: null,
      deployment: null,
      deployWaves: [['eu']],
      regions: [
        {
          region: 'eu',
          goal: { build: 'b42', seq: 7, deployment: 'd3', kind: 'deploy', by: 'alice' },
          revision: 1,
          goalError: null,
          mirror: null,
          convergence: convergence({
            running: 5,
            holding: 2,
            silent: 1,
            other: 2,
            converged: false,
            failed: { machines: 2, examples: [{ machine: 'eu-9', build: 'b42', error: 'health check failed', at: '2026-12-08T00:00:00Z' }] },
          }),
        },
      ],
    } as unknown as ServiceStatusJson;
    const [title, header, row] = statusText(status).split('\n');
    expect(title).toBe('api: not locked');
    expect(header).toMatch(/^REGION\s+GOAL\s+DEPLOYMENT\s+BY\s+RUNNING\s+HOLDING\s+FAILED\s+SILENT\s+DIGEST\s+NOTES$/);
    expect(row).toMatch(/^eu\s+b42 \(seq 7\)\s+d3\s+deploy by alice\s+5\/9\s+2\s+2\s+1\s+aaaaaaaaaaaa = goal\s+failed e\.g\. eu-9: health check failed, 2 idle or on other builds$/);
  });
});
