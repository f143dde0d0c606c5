// The deploys' SQL, one statement per operation, dialects side by side. Times are written from
// the coordinator's clock as parameters (toSqlTime) so that records spooled while SQL was down
// keep the time they happened at.
import { toSqlTime, type AuditResult, type DeploymentKind, type DeploymentStatus, type SqlRunner } from '../../../entities/index.ts';

export interface DeploymentInsert {
  service: string;
  buildId: number;
  regions: string[];
  kind: DeploymentKind;
  requestedBy: string;
  reason: string;
  status: DeploymentStatus;
  createdAt: Date;
  error: string | null;
}

export async function insertDeployment(db: SqlRunner, row: DeploymentInsert): Promise<number> {
  const result = await db.execute(
    `INSERT INTO deployments (service, build_id, regions, kind, requested_by, reason, status, created_at, error)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [row.service, row.buildId, row.regions.join(','), row.kind, row.requestedBy, row.reason, row.status, toSqlTime(db.dialect, row.createdAt), row.error],
  );
  return result.insertId;
}

/** Only a WRITING deployment changes: a spooled finish replayed twice changes nothing. */
export async function finishDeployment(db: SqlRunner, id: number, status: DeploymentStatus, error: string | null): Promise<void> {
  await db.execute(`UPDATE deployments SET status = ?, error = ? WHERE id = ? AND status = 'WRITING'`, [status, error, id]);
}

export async function selectDeployment(db: SqlRunner, id: number): Promise<Record<string, unknown> | undefined> {
  return (await db.query(`SELECT * FROM deployments WHERE id = ?`, [id]))[0];
}

export async function selectDeployments(db: SqlRunner, service: string | undefined, limit: number): Promise<Record<string, unknown>[]> {
  return service === undefined
    ? db.query(`SELECT * FROM deployments ORDER BY id DESC LIMIT ?`, [limit])
    : db.query(`SELECT * FROM deployments WHERE service = ? ORDER BY id DESC LIMIT ?`, [service, limit]);
}

/** The newest APPLIED deployment of the service whose build is not `currentBuildId`: what a rollback returns to. */
export async function selectPreviousBuild(db: SqlRunner, service: string, currentBuildId: number | null): Promise<number | null> {
  const rows = await db.query<{ build_id: unknown }>(
    `SELECT build_id FROM deployments WHERE service = ? AND status = 'APPLIED' AND build_id <> ? ORDER BY id DESC LIMIT 1`,
    [service, currentBuildId ?? 0],
  );
  return rows[0] ? Number(rows[0].build_id) : null;
}

export async function selectLock(db: SqlRunner, service: string): Promise<Record<string, unknown> | undefined> {
  return (await db.query(`SELECT * FROM locks WHERE service = ?`, [service]))[0];
}

/** Sets the lock, replacing one already there (a rollback re-locks with its own reason). */
export async function replaceLock(db: SqlRunner, service: string, lockedBy: string, reason: string, since: Date): Promise<void> {
  await db.execute(`DELETE FROM locks WHERE service = ?`, [service]);
  await db.execute(`INSERT INTO locks (service, locked_by, reason, since) VALUES (?, ?, ?, ?)`, [service, lockedBy, reason, toSqlTime(db.dialect, since)]);
}

/** Sets the lock unless one is there; false if the service was locked already. */
export async function insertLockIfAbsent(db: SqlRunner, service: string, lockedBy: string, reason: string, since: Date): Promise<boolean> {
  const result = await db.execute(
    {
      mysql: `INSERT IGNORE INTO locks (service, locked_by, reason, since) VALUES (?, ?, ?, ?)`,
      sqlite: `INSERT OR IGNORE INTO locks (service, locked_by, reason, since) VALUES (?, ?, ?, ?)`,
    },
    [service, lockedBy, reason, toSqlTime(db.dialect, since)],
  );
  return result.affected > 0;
}

export async function deleteLock(db: SqlRunner, service: string): Promise<boolean> {
  return (await db.execute(`DELETE FROM locks WHERE service = ?`, [service])).affected > 0;
}

export interface AuditInsert {
  at: Date;
  actor: string;
  action: string;
  target: string;
  result: AuditResult;
  detail: Record<string, unknown>;
}

export async function insertAudit(db: SqlRunner, row: AuditInsert): Promise<void> {
  await db.execute(`INSERT INTO audit (at, actor, action, target, result, detail) VALUES (?, ?, ?, ?, ?, ?)`, [
    toSqlTime(db.dialect, row.at),
    row.actor,
    row.action,
    row.target,
    row.result,
    JSON.stringify(row.detail),
  ]);
}

export async function selectAudit(db: SqlRunner, target: string): Promise<Record<string, unknown>[]> {
  return db.query(`SELECT * FROM audit WHERE target = ? ORDER BY id`, [target]);
}
