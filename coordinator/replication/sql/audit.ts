import { durationParam, type SqlRunner } from '../../../entities/index.ts';

/** DONE copies not checked for `everyMs`, least recently checked first. */
export async function pickForAudit(sql: SqlRunner, everyMs: number, limit: number): Promise<Record<string, unknown>[]> {
  return sql.query(
    {
      mysql: `SELECT * FROM replications
               WHERE status = 'DONE' AND removed_at IS NULL
                 AND COALESCE(audited_at, finished_at) < UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND
               ORDER BY COALESCE(audited_at, finished_at) LIMIT ${Math.trunc(limit)}`,
      sqlite: `SELECT * FROM replications
                WHERE status = 'DONE' AND removed_at IS NULL
                  AND COALESCE(audited_at, finished_at) < strftime('%Y-%m-%d %H:%M:%f', 'now', ?)
                ORDER BY COALESCE(audited_at, finished_at) LIMIT ${Math.trunc(limit)}`,
    },
    [durationParam(sql.dialect, everyMs)],
  );
}

export async function markAudited(sql: SqlRunner, id: number): Promise<void> {
  await sql.execute(
    {
      mysql: `UPDATE replications SET audited_at = UTC_TIMESTAMP(3) WHERE id = ? AND status = 'DONE'`,
      sqlite: `UPDATE replications SET audited_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = ? AND status = 'DONE'`,
    },
    [id],
  );
}

/** A DONE copy whose object is gone or damaged goes back to PENDING, to be copied again. */
export async function markLost(sql: SqlRunner, id: number, reason: string): Promise<boolean> {
  const { affected } = await sql.execute(
    `UPDATE replications
        SET status = 'PENDING', attempts = 0, available_at = NULL, verified_digest = NULL, bytes_copied = 0,
            failure_reason = ?, claimed_by = NULL, claim_token = NULL
      WHERE id = ? AND status = 'DONE' AND removed_at IS NULL`,
    [reason, id],
  );
  return affected === 1;
}
