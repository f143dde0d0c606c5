// A sample goal for the goal-state, deploy and agent tests and the benchmarks.
import { createHash } from 'node:crypto';
import type { GoalContent } from '../../goalstate/index.ts';

/** What a valid goal for `service` in `region` deploying build `b<n>` (deployment `d<n>`) says; GoalWriter signs it. */
export function sampleGoal(service: string, region: string, n: number, overrides: Partial<GoalContent> = {}): GoalContent {
  return {
    service,
    region,
    build: `b${n}`,
    digest: createHash('sha256').update(`${service}-b${n}`).digest('hex'),
    size: 1000 + n,
    artifact: `${service}/b${n}/${service}`,
    p2pKey: null,
    fileName: service,
    runCommand: null,
    healthUrl: null,
    deployment: `d${n}`,
    kind: 'deploy',
    by: 'alice',
    at: new Date().toISOString(),
    reason: '',
    ...overrides,
  };
}
