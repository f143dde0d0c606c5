import { durationParam, type SqlRunner } from '../../entities/index.ts';
import type { JobTable } from '../job-table.ts';

export interface StaleClaim {
  id: number;
  claimToken: string;
  attempts: number;
  maxAttempts: number;
  /** Seconds since the last heartbeat, or since the start for timed-out builds. */
  ageSeconds: number;
}

const batch = 100;

/** Running jobs whose worker has not sent a heartbeat within `timeoutMs`. */
export function findStaleHeartbeats(sql: SqlRunner, t: JobTable, timeoutMs: number): Promise<StaleClaim[]> {
  return findRunningSince(sql, t, 'last_heartbeat', timeoutMs);
}

/** Running jobs that started longer than `limitMs` ago, heartbeat or not. */
export function findOverdue(sql: SqlRunner, t: JobTable, limitMs: number): Promise<StaleClaim[]> {
  return findRunningSince(sql, t, 'started_at', limitMs);
}

async function findRunningSince(sql: SqlRunner, t: JobTable, column: 'last_heartbeat' | 'started_at', ms: number): Promise<StaleClaim[]> {
  const rows = await sql.query(
    {
      mysql: `SELECT id, claim_token, attempts, max_attempts,
                     TIMESTAMPDIFF(SECOND, ${column}, UTC_TIMESTAMP(3)) AS age_seconds
                FROM ${t.table}
               WHERE status = '${t.running}' AND ${column} < UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND
               LIMIT ${batch}`,
      sqlite: `SELECT id, claim_token, attempts, max_attempts,
                      CAST((julianday('now') - julianday(${column})) * 86400 AS INTEGER) AS age_seconds
                 FROM ${t.table}
                WHERE status = '${t.running}' AND ${column} < strftime('%Y-%m-%d %H:%M:%f', 'now', ?)
                LIMIT ${batch}`,
    },
    [durationParam(sql.dialect, ms)],
  );
  return rows.map(toStaleClaim);
}

// The writes below are fenced by the token the reaper saw: if the worker heartbeated, finished,
// or another reaper acted in between, the row no longer matches and nothing happens. That is
// what makes several reapers (one per coordinator) safe at once.

export async function requeueStale(sql: SqlRunner, t: JobTable, stale: StaleClaim): Promise<boolean> {
  const { affected } = await sql.execute(
    `UPDATE ${t.table}
        SET status = '${t.queued}', claimed_by = NULL, claim_token = NULL, started_at = NULL, last_heartbeat = NULL
      WHERE id = ? AND claim_token = ? AND status = '${t.running}'`,
    [stale.id, stale.claimToken],
  );
  return affected === 1;
}

export async function failStale(sql: SqlRunner, t: JobTable, stale: StaleClaim, reason: string): Promise<boolean> {
  const { affected } = await sql.execute(
    {
      mysql: `UPDATE ${t.table} SET status = '${t.failed}', failure_reason = ?, finished_at = UTC_TIMESTAMP(3)
               WHERE id = ? AND claim_token = ? AND status = '${t.running}'`,
      sqlite: `UPDATE ${t.table} SET status = '${t.failed}', failure_reason = ?, finished_at = strftime('%Y-%m-%d %H:%M:%f', 'now')
                WHERE id = ? AND claim_token = ? AND status = '${t.running}'`,
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
