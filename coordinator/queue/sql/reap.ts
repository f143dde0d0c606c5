import type { SqlRunner } from '../../../entities/index.ts';

export interface StaleClaim {
  id: number;
  claimToken: string;
  attempts: number;
  maxAttempts: number;
  /** Seconds since the last heartbeat, or since the start for timed-out builds. */
  ageSeconds: number;
}

const batch = 100;

/** RUNNING builds whose worker has not sent a heartbeat within `timeoutMs`. */
export async function findStaleHeartbeats(sql: SqlRunner, timeoutMs: number): Promise<StaleClaim[]> {
  const rows = await sql.query(
    {
      mysql: `SELECT id, claim_token, attempts, max_attempts,
                     TIMESTAMPDIFF(SECOND, last_heartbeat, UTC_TIMESTAMP(3)) AS age_seconds
                FROM builds
               WHERE status = 'RUNNING' AND last_heartbeat < UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND
               LIMIT ${batch}`,
      sqlite: `SELECT id, claim_token, attempts, max_attempts,
                      CAST((julianday('now') - julianday(last_heartbeat)) * 86400 AS INTEGER) AS age_seconds
                 FROM builds
                WHERE status = 'RUNNING' AND last_heartbeat < strftime('%Y-%m-%d %H:%M:%f', 'now', ?)
                LIMIT ${batch}`,
    },
    [sql.dialect === 'mysql' ? timeoutMs * 1000 : `-${(timeoutMs / 1000).toFixed(3)} seconds`],
  );
  return rows.map(toStaleClaim);
}

/** RUNNING builds that started longer than `limitMs` ago, heartbeat or not. */
export async function findOverdueBuilds(sql: SqlRunner, limitMs: number): Promise<StaleClaim[]> {
  const rows = await sql.query(
    {
      mysql: `SELECT id, claim_token, attempts, max_attempts,
                     TIMESTAMPDIFF(SECOND, started_at, UTC_TIMESTAMP(3)) AS age_seconds
                FROM builds
               WHERE status = 'RUNNING' AND started_at < UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND
               LIMIT ${batch}`,
      sqlite: `SELECT id, claim_token, attempts, max_attempts,
                      CAST((julianday('now') - julianday(started_at)) * 86400 AS INTEGER) AS age_seconds
                 FROM builds
                WHERE status = 'RUNNING' AND started_at < strftime('%Y-%m-%d %H:%M:%f', 'now', ?)
                LIMIT ${batch}`,
    },
    [sql.dialect === 'mysql' ? limitMs * 1000 : `-${(limitMs / 1000).toFixed(3)} seconds`],
  );
  return rows.map(toStaleClaim);
}

// The writes below are fenced by the token the reaper saw: if the worker heartbeated, finished,
// or another reaper acted in between, the row no longer matches and nothing happens. That is
// what makes several reapers (one per coordinator) safe at once.

export async function requeueStale(sql: SqlRunner, stale: StaleClaim): Promise<boolean> {
  const { affected } = await sql.execute(
    `UPDATE builds
        SET status = 'QUEUED', claimed_by = NULL, claim_token = NULL, started_at = NULL, last_heartbeat = NULL
      WHERE id = ? AND claim_token = ? AND status = 'RUNNING'`,
    [stale.id, stale.claimToken],
  );
  return affected === 1;
}

export async function failStale(sql: SqlRunner, stale: StaleClaim, reason: string): Promise<boolean> {
  const { affected } = await sql.execute(
    {
      mysql: `UPDATE builds SET status = 'FAILED', failure_reason = ?, finished_at = UTC_TIMESTAMP(3)
               WHERE id = ? AND claim_token = ? AND status = 'RUNNING'`,
      sqlite: `UPDATE builds SET status = 'FAILED', failure_reason = ?, finished_at = strftime('%Y-%m-%d %H:%M:%f', 'now')
                WHERE id = ? AND claim_token = ? AND status = 'RUNNING'`,
    },
    [reason, stale.id, stale.claimToken],
  );
  return affected === 1;
}

function toStaleClaim(row: Record<string, unknown>): StaleClaim {
  return {
    id: Number(row.id),
    claimToken: String(row.claim_token),
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    ageSeconds: Number(row.age_seconds),
  };
}
