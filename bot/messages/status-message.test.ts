import { describe, expect, it } from 'vitest';
import type { StatusInfo } from '../fleet/fleet-json.ts';
import { statusMessage } from './status-message.ts';

const now = Date.parse('2026-12-07T12:00:00Z');
const convergence = (region: string, extra: Partial<StatusInfo['regions'][number]['convergence']> = {}) => ({
  region,
  service: 'api',
  goalBuild: 'b42',
  goalDigest: 'a'.repeat(64),
  goalSeq: 1_800_000_000_000,
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
  runningDigests: [{ build: 'b42', digest: 'a'.repeat(64), machines: 10 }],
  converged: true,
  known: true,
  ...extra,
});
const goal = (region: string) => ({
  v: 2 as const,
  purpose: 'goal' as const,
  service: 'api',
  region,
  build: 'b42',
  digest: 'a'.repeat(64),
  size: 1,
  artifact: 'a',
  p2pKey: null,
  fileName: 'api',
  runCommand: null,
  healthUrl: null,
  deployment: 'd7',
  kind: 'deploy' as const,
  by: 'alice',
  at: '2026-12-07T11:50:00Z',
  reason: '',
  seq: 1_800_000_000_000,
  sig: { key: '0123456789abcdef', value: 'x'.repeat(86) },
});

describe('/status in Slack', () => {
  it('shows, per region, machines refusing their mirror\'s document (by code) and a goal mirror that is not healthy', () => {
    const status: StatusInfo = {
      service: 'api',
      lock: null,
      deployment: null,
      deployWaves: [['eu'], ['us']],
      regions: [
        {
          region: 'eu',
          goal: goal('eu'),
          revision: 3,
          goalError: null,
          convergence: convergence('eu', { mismatched: 1, running: 9, converged: false, refused: { machines: 2, codes: { GOAL_SIGNATURE_INVALID: 2 }, examples: [{ machine: 'eu-7', code: 'GOAL_SIGNATURE_INVALID', message: 'goal api.eu at revision 4 is refused: it carries no signature', at: '2026-12-07T11:59:00Z' }] } }),
          mirror: { region: 'eu', state: 'not-a-mirror', problem: 'KV_goal-eu is a plain stream', lag: null, lastActiveMs: null, diverged: [], checkedAt: '2026-12-07T11:59:30Z', repairs: 1, lastRepair: { at: '2026-12-07T11:59:31Z', problem: 'not-a-mirror: …', ok: true } },
        },
        { region: 'us', goal: null, revision: 9, goalError: { code: 'GOAL_SIGNATURE_INVALID', message: 'goal api.us at revision 9 is refused: it is an unsigned version-1 document' }, convergence: convergence('us'), mirror: null },
      ],
    };
    const text = JSON.stringify(statusMessage(status, now).blocks);
    expect(text).toContain('2 machines refused the document in the goal mirror (2 GOAL_SIGNATURE_INVALID) and keep their build');
    expect(text).toContain('eu-7: goal api.eu at revision 4 is refused');
    expect(text).toContain('goal mirror *not-a-mirror*: KV_goal-eu is a plain stream · recreated 1× by the coordinator');
    expect(text).toContain('1 report it with another digest or goal sequence (not counted)');
    expect(text).toContain('*us*: the stored goal is not signed by a trusted key');
  });

  it('shows per region machines running the goal, holding it in cache, failed and silent, and the digest they report', () => {
    const status: StatusInfo = {
      service: 'api',
      lock: null,
      deployment: null,
      deployWaves: [['eu', 'us']],
      regions: [
        {
          region: 'eu',
          goal: goal('eu'),
          revision: 3,
          goalError: null,
          convergence: convergence('eu', {
            running: 6,
            holding: 1,
            other: 1,
            silent: 2,
            failed: { machines: 1, examples: [{ machine: 'eu-3', build: 'b42', error: 'health check failed', at: '2026-12-07T11:59:00Z' }] },
            converged: false,
            runningDigests: [{ build: 'b42', digest: 'a'.repeat(64), machines: 6 }, { build: 'b41', digest: 'f'.repeat(64), machines: 1 }],
          }),
          mirror: null,
        },
        {
          region: 'us',
          goal: goal('us'),
          revision: 3,
          goalError: null,
          convergence: convergence('us', { running: 9, mismatched: 1, converged: false, runningDigests: [{ build: 'b42', digest: 'a'.repeat(64), machines: 9 }, { build: 'b42', digest: 'e'.repeat(64), machines: 1 }] }),
          mirror: null,
        },
      ],
    };
    const text = JSON.stringify(statusMessage(status, now).blocks);
    expect(text).toContain(`*eu*: b42 (d7, deploy by alice, 10 min ago) — 6/10 running it · 1 holding it (cached) · 1 failed · 2 silent · 1 on another build · digest \`${'a'.repeat(12)}\``);
    expect(text).toContain(`:warning: digests reported: \`${'a'.repeat(12)}\` ×9 (signed), \`${'e'.repeat(12)}\` ×1 ≠ goal`);
  });
});
