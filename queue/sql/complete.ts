import { durationParam, type SqlRunner } from '../../entities/index.ts';
import type { Claim } from '../claim.ts';
import type { JobTable } from '../job-table.ts';

// Every write is fenced by the claim token: a worker that lost its claim matches no row and
// so cannot overwrite the state written by the worker that took over. claim_token stays on the
// finished row so that a retried write (its first reply lost with the connection) can tell
// "already done by me" from "taken over".

/** `results` are the job's own result columns (names from code, never user input). */
export async function markSucceeded(sql: SqlRunner, t: JobTable, claim: Claim, results: Record<string, unknown>): Promise<boolean> {
  const columns = Object.keys(results);
  const set = columns.map((column) => `${column} = ?, `).join('');
  const { affected } = await sql.execute(
    {
      mysql: `UPDATE ${t.table}
                 SET ${set}status = '${t.succeeded}', finished_at = UTC_TIMESTAMP(3), failure_reason = NULL
               WHERE id = ? AND claim_token = ? AND status = '${t.running}'`,
      sqlite: `UPDATE ${t.table}
                  SET ${set}status = '${t.succeeded}', finished_at = strftime('%Y-%m-%d %H:%M:%f', 'now'), failure_reason = NULL
                WHERE id = ? AND claim_token = ? AND status = '${t.running}'`,
    },
    [...columns.map((column) => results[column]), claim.id, claim.token],
  );
  return affected === 1;
}

export async function markFailed(sql: SqlRunner, t: JobTable, claim: Claim, reason: string): Promise<boolean> {
  const { affected } = await sql.execute(
    {
      mysql: `UPDATE ${t.table}
                 SET status = '${t.failed}', failure_reason = ?, finished_at = UTC_TIMESTAMP(3)
               WHERE id = ? AND claim_token = ? AND status = '${t.running}'`,
      sqlite: `UPDATE ${t.table}
                  SET status = '${t.failed}', failure_reason = ?, finished_at = strftime('%Y-%m-%d %H:%M:%f', 'now')
                WHERE id = ? AND claim_token = ? AND status = '${t.running}'`,
    },
    [reason, claim.id, claim.token],
  );
  return affected === 1;
}

/** Gives the job back to the queue without counting the attempt (a worker shutting down). */
export async function releaseClaim(sql: SqlRunner, t: JobTable, claim: Claim): Promise<boolean> {
  const { affected } = await sql.execute(
    `UPDATE ${t.table}
        SET status = '${t.queued}', claimed_by = NULL, claim_token = NULL, started_at = NULL, last_heartbeat = NULL,
            attempts = attempts - 1
      WHERE id = ? AND claim_token = ? AND status = '${t.running}'`,
    [claim.id, claim.token],
  );
  return affected === 1;
}

/** Puts a failed attempt back in the queue, claimable again after `delayMs` (tables with an availableColumn). */
export async function retryLater(sql: SqlRunner, t: JobTable, claim: Claim, reason: string, delayMs: number): Promise<boolean> {
  const { affected } = await sql.execute(
    {
      mysql: `UPDATE ${t.table}
                 SET status = '${t.queued}', failure_reason = ?, claimed_by = NULL, claim_token = NULL, last_heartbeat = NULL,
                     ${t.availableColumn} = UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND
               WHERE id = ? AND claim_token = ? AND status = '${t.running}'`,
      sqlite: `UPDATE ${t.table}
                  SET status = '${t.queued}', failure_reason = ?, claimed_by = NULL, claim_token = NULL, last_heartbeat = NULL,
                      ${t.availableColumn} = strftime('%Y-%m-%d %H:%M:%f', 'now', ?)
                WHERE id = ? AND claim_token = ? AND status = '${t.running}'`,
    },
    [reason, durationParam(sql.dialect, delayMs, 'ahead'), claim.id, claim.token],
  );
  return affected === 1;
}
