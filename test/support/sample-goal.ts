// A sample goal for the goal-state, deploy and agent tests and the benchmarks.
import { createHash } from 'node:crypto';
import type { Goal } from '../../goalstate/index.ts';

/** A valid goal for `service` in `region` deploying build `b<n>` (deployment `d<n>`). */
export function sampleGoal(service: string, region: string, n: number, overrides: Partial<Goal> = {}): Goal {
  return {
    v: 1,
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
