import type { SqlRunner } from '../../../entities/index.ts';
import type { ReplicationStatus } from '../replication.ts';

export async function selectForBuild(sql: SqlRunner, buildId: number): Promise<Record<string, unknown>[]> {
  return sql.query(`SELECT * FROM replications WHERE build_id = ? ORDER BY region`, [buildId]);
}

export async function selectForBuilds(sql: SqlRunner, buildIds: number[]): Promise<Record<string, unknown>[]> {
  if (buildIds.length === 0) return [];
  return sql.query(`SELECT * FROM replications WHERE build_id IN (${buildIds.map(() => '?').join(', ')}) ORDER BY build_id, region`, buildIds);
}

export async function countReplicationsByStatus(sql: SqlRunner): Promise<Record<ReplicationStatus, number>> {
  const rows = await sql.query<{ status: ReplicationStatus; n: number }>(`SELECT status, COUNT(*) AS n FROM replications GROUP BY status`);
  const counts: Record<ReplicationStatus, number> = { PENDING: 0, COPYING: 0, DONE: 0, FAILED: 0 };
  for (const row of rows) counts[row.status] = Number(row.n);
  return counts;
}

/** Seconds the oldest unfinished copy has waited since it was planned: the replication lag. */
export async function oldestUnfinishedAgeSeconds(sql: SqlRunner): Promise<number> {
  const [row] = await sql.query<{ age: number | null }>({
    mysql: `SELECT TIMESTAMPDIFF(MICROSECOND, MIN(created_at), UTC_TIMESTAMP(3)) / 1e6 AS age FROM replications WHERE status IN ('PENDING', 'COPYING')`,
    sqlite: `SELECT (julianday('now') - julianday(MIN(created_at))) * 86400 AS age FROM replications WHERE status IN ('PENDING', 'COPYING')`,
  });
  return Number(row?.age ?? 0);
}

/** FAILED copies go back to PENDING with fresh attempts (`fleetcast replicate`). */
export async function resetFailed(sql: SqlRunner, buildId: number, region?: string): Promise<number> {
  const { affected } = await sql.execute(
    `UPDATE replications
        SET status = 'PENDING', attempts = 0, available_at = NULL, claimed_by = NULL, claim_token = NULL
      WHERE build_id = ? AND status = 'FAILED'${region === undefined ? '' : ' AND region = ?'}`,
    region === undefined ? [buildId] : [buildId, region],
  );
  return affected;
}
