import type { SqlRunner } from '../../../entities/index.ts';

/**
 * Regional copies of builds older than the newest `keep` SUCCEEDED builds of their service:
 * what retention may delete. ROW_NUMBER works on MariaDB ≥ 10.2 and SQLite ≥ 3.25 alike.
 */
export async function findExpired(sql: SqlRunner, keep: number, limit: number): Promise<Record<string, unknown>[]> {
  return sql.query(
    `SELECT r.* FROM replications r
       JOIN (SELECT id, ROW_NUMBER() OVER (PARTITION BY service ORDER BY id DESC) AS newness
               FROM builds WHERE status = 'SUCCEEDED') ranked ON ranked.id = r.build_id
      WHERE ranked.newness > ? AND r.removed_at IS NULL AND r.status IN ('DONE', 'FAILED', 'PENDING')
      ORDER BY r.build_id LIMIT ${Math.trunc(limit)}`,
    [keep],
  );
}

/** Records that the regional object is gone for good; the row stays as history. */
export async function markRemoved(sql: SqlRunner, id: number): Promise<void> {
  await sql.execute(
    {
      mysql: `UPDATE replications SET removed_at = UTC_TIMESTAMP(3), status = CASE WHEN status = 'DONE' THEN 'DONE' ELSE 'FAILED' END,
                     failure_reason = CASE WHEN status = 'DONE' THEN failure_reason ELSE 'removed by retention before it was copied' END
               WHERE id = ? AND status <> 'COPYING'`,
      sqlite: `UPDATE replications SET removed_at = strftime('%Y-%m-%d %H:%M:%f', 'now'), status = CASE WHEN status = 'DONE' THEN 'DONE' ELSE 'FAILED' END,
                      failure_reason = CASE WHEN status = 'DONE' THEN failure_reason ELSE 'removed by retention before it was copied' END
                WHERE id = ? AND status <> 'COPYING'`,
    },
    [id],
  );
}
