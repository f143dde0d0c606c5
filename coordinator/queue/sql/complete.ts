import type { SqlRunner } from '../../../entities/index.ts';
import type { Claim } from '../build.ts';

// Both writes are fenced by the claim token: a worker that lost its claim matches no row and
// so cannot overwrite the state written by the worker that took over. claim_token stays on the
// finished row so that a retried write (its first reply lost with the connection) can tell
// "already done by me" from "taken over".

export async function markSucceeded(sql: SqlRunner, claim: Claim, digest: string, size: number): Promise<boolean> {
  const { affected } = await sql.execute(
    {
      mysql: `UPDATE builds
                 SET status = 'SUCCEEDED', digest = ?, size = ?, finished_at = UTC_TIMESTAMP(3), failure_reason = NULL
               WHERE id = ? AND claim_token = ? AND status = 'RUNNING'`,
      sqlite: `UPDATE builds
                  SET status = 'SUCCEEDED', digest = ?, size = ?, finished_at = strftime('%Y-%m-%d %H:%M:%f', 'now'), failure_reason = NULL
                WHERE id = ? AND claim_token = ? AND status = 'RUNNING'`,
    },
    [digest, size, claim.buildId, claim.token],
  );
  return affected === 1;
}

export async function markFailed(sql: SqlRunner, claim: Claim, reason: string): Promise<boolean> {
  const { affected } = await sql.execute(
    {
      mysql: `UPDATE builds
                 SET status = 'FAILED', failure_reason = ?, finished_at = UTC_TIMESTAMP(3)
               WHERE id = ? AND claim_token = ? AND status = 'RUNNING'`,
      sqlite: `UPDATE builds
                  SET status = 'FAILED', failure_reason = ?, finished_at = strftime('%Y-%m-%d %H:%M:%f', 'now')
                WHERE id = ? AND claim_token = ? AND status = 'RUNNING'`,
    },
    [reason, claim.buildId, claim.token],
  );
  return affected === 1;
}

/** Gives the build back to the queue without counting the attempt (a worker shutting down). */
export async function releaseClaim(sql: SqlRunner, claim: Claim): Promise<boolean> {
  const { affected } = await sql.execute(
    `UPDATE builds
        SET status = 'QUEUED', claimed_by = NULL, claim_token = NULL, started_at = NULL, last_heartbeat = NULL,
            attempts = attempts - 1
      WHERE id = ? AND claim_token = ? AND status = 'RUNNING'`,
    [claim.buildId, claim.token],
  );
  return affected === 1;
}
