// The deploys' SQL, one statement per operation, dialects side by side. Times are written from
// the coordinator's clock as parameters (toSqlTime) so that records spooled while SQL was down
// keep the time they happened at.
import { deploymentStatuses, toSqlTime, type AuditResult, type DeploymentKind, type DeploymentStatus, type SqlRunner } from '../../../entities/index.ts';

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
  /** encodeWaves(); absent for spooled rollbacks (one wave). */
  waves?: string | null;
  idempotencyKey?: string | null;
}

/** Inserts a deployment; a second one with the same idempotency key fails the UNIQUE index (isUniqueViolation). */
export async function insertDeployment(db: SqlRunner, row: DeploymentInsert): Promise<number> {
  const at = toSqlTime(db.dialect, row.createdAt);
  const result = await db.execute(
    `INSERT INTO deployments (service, build_id, regions, kind, requested_by, reason, status, created_at, error, waves, idempotency_key, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [row.service, row.buildId, row.regions.join(','), row.kind, row.requestedBy, row.reason, row.status, at, row.error, row.waves ?? null, row.idempotencyKey ?? null, at],
  );
  return result.insertId;
}

/** Only a WRITING deployment changes: a spooled finish replayed twice changes nothing. */
export async function finishDeployment(db: SqlRunner, id: number, status: DeploymentStatus, error: string | null, waves?: string): Promise<void> {
  await db.execute(
    `UPDATE deployments SET status = ?, error = ?, waves = COALESCE(?, waves), updated_at = ? WHERE id = ? AND status = 'WRITING'`,
    [status, error, waves ?? null, toSqlTime(db.dialect, new Date()), id],
  );
}

export interface DeploymentProgressUpdate {
  status: DeploymentStatus;
  waves: string;
  error: string | null;
  convergedAt: Date | null;
  /** deployments.rollback_deployment; unchanged when absent. */
  rollback?: string | null;
}

/**
 * Records a step of a rollout if nobody else recorded one since it was read (the waves and the
 * status as read are the version: several coordinators may run the wave runner, and a person may
 * pause or resume meanwhile). False if it changed.
 */
export async function updateDeploymentProgress(db: SqlRunner, id: number, expected: { waves: string | null; status: DeploymentStatus }, update: DeploymentProgressUpdate): Promise<boolean> {
  const expectedWaves = expected.waves;
  const result = await db.execute(
    `UPDATE deployments SET status = ?, waves = ?, error = ?, converged_at = ?, rollback_deployment = COALESCE(?, rollback_deployment), updated_at = ?
      WHERE id = ? AND status = ? AND ${expectedWaves === null ? 'waves IS NULL' : 'waves = ?'}`,
    [
      update.status,
      update.waves,
      update.error,
      update.convergedAt ? toSqlTime(db.dialect, update.convergedAt) : null,
      update.rollback ?? null,
      toSqlTime(db.dialect, new Date()),
      id,
      expected.status,
      ...(expectedWaves === null ? [] : [expectedWaves]),
    ],
  );
  return result.affected === 1;
}

/** Records the rollback that undid a FAILED or ABORTED deployment (or that there was nothing to undo), once: only while it is pending. */
export async function recordRollback(db: SqlRunner, id: number, rollback: string | null, error: string): Promise<boolean> {
  const result = await db.execute(`UPDATE deployments SET rollback_deployment = ?, error = ?, updated_at = ? WHERE id = ? AND rollback_deployment = 'pending'`, [
    rollback,
    error,
    toSqlTime(db.dialect, new Date()),
    id,
  ]);
  return result.affected === 1;
}

export async function selectDeploymentByKey(db: SqlRunner, key: string): Promise<Record<string, unknown> | undefined> {
  return (await db.query(`SELECT * FROM deployments WHERE idempotency_key = ?`, [key]))[0];
}

/** Rollouts of the service not yet converged: a new deploy or rollback supersedes them. */
export async function selectRolling(db: SqlRunner, service: string): Promise<Record<string, unknown>[]> {
  return db.query(`SELECT * FROM deployments WHERE service = ? AND status IN ('ROLLING', 'PAUSED') ORDER BY id`, [service]);
}

/** The newest deployment of the service before `id` (what a rollback replaces). */
export async function selectNewestBefore(db: SqlRunner, service: string, id: number): Promise<Record<string, unknown> | undefined> {
  return (await db.query(`SELECT * FROM deployments WHERE service = ? AND id < ? ORDER BY id DESC LIMIT 1`, [service, id]))[0];
}

/** A CONVERGED deployment whose build a rollback replaced everywhere it ran. */
export async function markRolledBack(db: SqlRunner, id: number, error: string): Promise<void> {
  await db.execute(`UPDATE deployments SET status = 'ROLLED_BACK', error = ?, updated_at = ? WHERE id = ? AND status = 'CONVERGED'`, [error, toSqlTime(db.dialect, new Date()), id]);
}

/**
 * Deployments whose rollout the wave runner still follows, created since `since` and the newest
 * of their service (an older one's goal is gone): ROLLING or PAUSED ones, and FAILED or ABORTED
 * ones whose rollback is claimed but not yet written (a coordinator died in between).
 */
export async function selectFollowed(db: SqlRunner, since: Date): Promise<Record<string, unknown>[]> {
  return db.query(
    `SELECT d.* FROM deployments d
      WHERE (d.status IN ('ROLLING', 'PAUSED') OR (d.status IN ('FAILED', 'ABORTED') AND d.rollback_deployment = 'pending')) AND d.created_at > ?
        AND NOT EXISTS (SELECT 1 FROM deployments n WHERE n.service = d.service AND n.id > d.id)
      ORDER BY d.id`,
    [toSqlTime(db.dialect, since)],
  );
}

export async function selectDeployment(db: SqlRunner, id: number): Promise<Record<string, unknown> | undefined> {
  return (await db.query(`SELECT * FROM deployments WHERE id = ?`, [id]))[0];
}

export async function selectDeployments(db: SqlRunner, service: string | undefined, limit: number): Promise<Record<string, unknown>[]> {
  return service === undefined
    ? db.query(`SELECT * FROM deployments ORDER BY id DESC LIMIT ?`, [limit])
    : db.query(`SELECT * FROM deployments WHERE service = ? ORDER BY id DESC LIMIT ?`, [service, limit]);
}

/**
 * The build of the newest deployment of the service that ran everywhere it was sent (CONVERGED,
 * or SUPERSEDED after its every wave was written: no error) and is not `currentBuildId`: what a
 * rollback returns to. Failed, aborted and rolled-back builds are never a target.
 */
export async function selectPreviousBuild(db: SqlRunner, service: string, currentBuildId: number | null): Promise<number | null> {
  const rows = await db.query<{ build_id: unknown }>(
    `SELECT build_id FROM deployments WHERE service = ? AND (status = 'CONVERGED' OR (status = 'SUPERSEDED' AND error IS NULL)) AND build_id <> ? ORDER BY id DESC LIMIT 1`,
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

/** Deployments by status (the whole history), for the metrics. */
export async function countDeploymentsByStatus(db: SqlRunner): Promise<Record<DeploymentStatus, number>> {
  const counts = Object.fromEntries(deploymentStatuses.map((status) => [status, 0])) as Record<DeploymentStatus, number>;
  for (const row of await db.query<{ status: DeploymentStatus; n: unknown }>(`SELECT status, COUNT(*) AS n FROM deployments GROUP BY status`)) counts[row.status] = Number(row.n);
  return counts;
}
