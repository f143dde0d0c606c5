import type { SqlRunner } from '../../entities/index.ts';
import type { BuildRow, BuildStatus } from '../build.ts';

export async function selectBuild(sql: SqlRunner, id: number): Promise<BuildRow | null> {
  const [row] = await sql.query(`SELECT * FROM builds WHERE id = ?`, [id]);
  return row ?? null;
}

export interface BuildFilter {
  service?: string | undefined;
  status?: BuildStatus | undefined;
  /** Only builds older than this id: the next page of a newest-first listing. */
  beforeId?: number | undefined;
  limit: number;
}

/** Newest first. */
export async function selectBuilds(sql: SqlRunner, filter: BuildFilter): Promise<BuildRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.service !== undefined) (where.push('service = ?'), params.push(filter.service));
  if (filter.status !== undefined) (where.push('status = ?'), params.push(filter.status));
  if (filter.beforeId !== undefined) (where.push('id < ?'), params.push(filter.beforeId));
  const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  return sql.query(`SELECT * FROM builds ${clause} ORDER BY id DESC LIMIT ${Math.trunc(filter.limit)}`, params);
}

export async function countByStatus(sql: SqlRunner): Promise<Record<BuildStatus, number>> {
  const rows = await sql.query<{ status: BuildStatus; n: number }>(`SELECT status, COUNT(*) AS n FROM builds GROUP BY status`);
  const counts: Record<BuildStatus, number> = { QUEUED: 0, RUNNING: 0, SUCCEEDED: 0, FAILED: 0 };
  for (const row of rows) counts[row.status] = Number(row.n);
  return counts;
}
