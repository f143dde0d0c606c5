import { toSqlTime, type SqlRunner } from '../../../entities/index.ts';

export interface AuditFilter {
  target?: string | undefined;
  actor?: string | undefined;
  action?: string | undefined;
  result?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  /** Only rows older than this id (the previous page's last). */
  beforeId?: number | undefined;
  limit: number;
}

/** Audit rows matching every filter given, newest first. */
export async function listAudit(db: SqlRunner, filter: AuditFilter): Promise<Record<string, unknown>[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: string, value: unknown) => {
    where.push(clause);
    params.push(value);
  };
  if (filter.target !== undefined) add('target = ?', filter.target);
  if (filter.actor !== undefined) add('actor = ?', filter.actor);
  if (filter.action !== undefined) add('action = ?', filter.action);
  if (filter.result !== undefined) add('result = ?', filter.result);
  if (filter.since !== undefined) add('at >= ?', toSqlTime(db.dialect, filter.since));
  if (filter.until !== undefined) add('at < ?', toSqlTime(db.dialect, filter.until));
  if (filter.beforeId !== undefined) add('id < ?', filter.beforeId);
  const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  return db.query(`SELECT * FROM audit ${clause} ORDER BY id DESC LIMIT ${Math.trunc(filter.limit)}`, params);
}
