import { formatBuildId } from './build.ts';

/**
 * What the queue machinery (claim, heartbeat, complete, reap) needs to know about a table of
 * jobs. Builds and replications share the machinery; the columns it touches have the same
 * names in both tables (status, created_at, started_at, finished_at, attempts, max_attempts,
 * claimed_by, claim_token, last_heartbeat, failure_reason).
 *
 * Every name here is a constant of this code base, never user input: the SQL modules
 * interpolate them.
 */
export interface JobTable {
  readonly table: string;
  readonly queued: string;
  readonly running: string;
  readonly succeeded: string;
  readonly failed: string;
  /** Claimers may ask only for jobs of one partition (replications: a region). */
  readonly partitionColumn?: string;
  /** Jobs become claimable at this time (retries with backoff); null means at once. */
  readonly availableColumn?: string;
  /** `b42` for people and logs. */
  readonly formatId: (id: number) => string;
}

export const buildsTable: JobTable = {
  table: 'builds',
  queued: 'QUEUED',
  running: 'RUNNING',
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  formatId: formatBuildId,
};

