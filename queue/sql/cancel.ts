import type { SqlRunner } from '../../entities/index.ts';

/**
 * Ends a QUEUED or RUNNING build as FAILED at once. A worker running it finds out at its next
 * heartbeat (its token no longer matches a RUNNING row) and kills the build process.
 */
export async function markCancelled(sql: SqlRunner, buildId: number, cancelledBy: string, reason: string): Promise<boolean> {
  const { affected } = await sql.execute(
    {
      mysql: `UPDATE builds SET status = 'FAILED', cancelled_by = ?, failure_reason = ?, finished_at = UTC_TIMESTAMP(3)
               WHERE id = ? AND status IN ('QUEUED', 'RUNNING')`,
      sqlite: `UPDATE builds SET status = 'FAILED', cancelled_by = ?, failure_reason = ?, finished_at = strftime('%Y-%m-%d %H:%M:%f', 'now')
                WHERE id = ? AND status IN ('QUEUED', 'RUNNING')`,
    },
    [cancelledBy, reason, buildId],
  );
  return affected === 1;
}
