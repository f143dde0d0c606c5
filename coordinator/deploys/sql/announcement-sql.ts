import type { SqlRunner } from '../../../entities/index.ts';

/** Audit rows after `afterId` with one of `actions`, oldest first: what the bot announces, read in order. */
export async function selectAuditAfter(db: SqlRunner, afterId: number, actions: readonly string[], limit: number): Promise<Record<string, unknown>[]> {
  return db.query(`SELECT * FROM audit WHERE id > ? AND action IN (${actions.map(() => '?').join(', ')}) ORDER BY id LIMIT ${Math.trunc(limit)}`, [afterId, ...actions]);
}

export async function selectNewestAuditId(db: SqlRunner): Promise<number> {
  const [row] = await db.query<{ newest: unknown }>(`SELECT MAX(id) AS newest FROM audit`);
  return row?.newest === null || row?.newest === undefined ? 0 : Number(row.newest);
}
