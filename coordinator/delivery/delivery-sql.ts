// The delivery loop's SQL (migration 0011), one statement per operation, dialects side by side.
// Times are the coordinator's clock (the injected one), written as parameters.
import { fromSqlTime, toSqlTime, type SqlRunner } from '../../entities/index.ts';
import { formatFreezeId, type FreezeWindow } from './freeze-window.ts';

export type FreezeInsert = Omit<FreezeWindow, 'id'>;

export async function insertFreeze(db: SqlRunner, row: FreezeInsert): Promise<number> {
  const time = (at: Date | null) => (at === null ? null : toSqlTime(db.dialect, at));
  const result = await db.execute(
    `INSERT INTO freeze_windows (service, kind, starts_at, ends_at, weekly, time_zone, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [row.service, row.kind, time(row.startsAt), time(row.endsAt), row.weekly, row.timeZone, row.reason, row.createdBy, toSqlTime(db.dialect, row.createdAt)],
  );
  return result.insertId;
}

/** Freezes not removed and not over (a one-off that ended stays in SQL, out of sight); of `service` and the global ones, or all. */
export async function selectFreezes(db: SqlRunner, service: string | null, now: Date): Promise<FreezeWindow[]> {
  const rows = await db.query(
    `SELECT * FROM freeze_windows WHERE removed_at IS NULL AND (ends_at IS NULL OR ends_at > ?) ${service === null ? '' : 'AND (service IS NULL OR service = ?)'} ORDER BY id`,
    service === null ? [toSqlTime(db.dialect, now)] : [toSqlTime(db.dialect, now), service],
  );
  return rows.map(toFreeze);
}

export async function selectFreeze(db: SqlRunner, id: number): Promise<{ window: FreezeWindow; removedAt: Date | null } | null> {
  const [row] = await db.query(`SELECT * FROM freeze_windows WHERE id = ?`, [id]);
  return row ? { window: toFreeze(row), removedAt: fromSqlTime(row.removed_at) } : null;
}

export async function removeFreeze(db: SqlRunner, id: number, by: string, at: Date): Promise<boolean> {
  const result = await db.execute(`UPDATE freeze_windows SET removed_by = ?, removed_at = ? WHERE id = ? AND removed_at IS NULL`, [by, toSqlTime(db.dialect, at), id]);
  return result.affected === 1;
}

function toFreeze(row: Record<string, unknown>): FreezeWindow {
  return {
    id: formatFreezeId(Number(row.id)),
    service: (row.service as string | null) ?? null,
    kind: row.kind === 'weekly' ? 'weekly' : 'once',
    startsAt: fromSqlTime(row.starts_at),
    endsAt: fromSqlTime(row.ends_at),
    weekly: (row.weekly as string | null) ?? null,
    timeZone: (row.time_zone as string | null) ?? null,
    reason: String(row.reason),
    createdBy: String(row.created_by),
    createdAt: fromSqlTime(row.created_at)!,
  };
}

/** A service's delivery settings and what continuous deploy last did with it. */
export interface DeliveryRow {
  service: string;
  cdEnabled: boolean;
  cdBranch: string | null;
  cdBuildId: number | null;
  cdState: string | null;
  cdReason: string | null;
  cdDeployment: string | null;
  cdAt: Date | null;
  checkCommand: string | null;
  checkUrl: string | null;
  checkTimeoutMs: number | null;
  updatedBy: string;
  updatedAt: Date;
}

function toDelivery(row: Record<string, unknown>): DeliveryRow {
  return {
    service: String(row.service),
    cdEnabled: Number(row.cd_enabled) === 1,
    cdBranch: (row.cd_branch as string | null) ?? null,
    cdBuildId: row.cd_build_id === null || row.cd_build_id === undefined ? null : Number(row.cd_build_id),
    cdState: (row.cd_state as string | null) ?? null,
    cdReason: (row.cd_reason as string | null) ?? null,
    cdDeployment: (row.cd_deployment as string | null) ?? null,
    cdAt: fromSqlTime(row.cd_at),
    checkCommand: (row.check_command as string | null) ?? null,
    checkUrl: (row.check_url as string | null) ?? null,
    checkTimeoutMs: row.check_timeout_ms === null || row.check_timeout_ms === undefined ? null : Number(row.check_timeout_ms),
    updatedBy: String(row.updated_by),
    updatedAt: fromSqlTime(row.updated_at)!,
  };
}

export async function selectDelivery(db: SqlRunner, service: string): Promise<DeliveryRow | null> {
  const [row] = await db.query(`SELECT * FROM service_delivery WHERE service = ?`, [service]);
  return row ? toDelivery(row) : null;
}

export async function selectContinuousServices(db: SqlRunner): Promise<DeliveryRow[]> {
  return (await db.query(`SELECT * FROM service_delivery WHERE cd_enabled = 1 ORDER BY service`)).map(toDelivery);
}

const upsert = (columns: string[]) => ({
  mysql: `INSERT INTO service_delivery (service, ${columns.join(', ')}, updated_by, updated_at) VALUES (?, ${columns.map(() => '?').join(', ')}, ?, ?)
          ON DUPLICATE KEY UPDATE ${[...columns, 'updated_by', 'updated_at'].map((c) => `${c} = VALUES(${c})`).join(', ')}`,
  sqlite: `INSERT INTO service_delivery (service, ${columns.join(', ')}, updated_by, updated_at) VALUES (?, ${columns.map(() => '?').join(', ')}, ?, ?)
           ON CONFLICT (service) DO UPDATE SET ${[...columns, 'updated_by', 'updated_at'].map((c) => `${c} = excluded.${c}`).join(', ')}`,
});

/** Turning continuous deploy on or off forgets what it last did: the next round looks afresh. */
export async function upsertContinuousDeploy(db: SqlRunner, service: string, enabled: boolean, branch: string | null, by: string, at: Date): Promise<void> {
  await db.execute(upsert(['cd_enabled', 'cd_branch', 'cd_build_id', 'cd_state', 'cd_reason', 'cd_deployment', 'cd_at']), [
    service,
    enabled ? 1 : 0,
    branch,
    null,
    null,
    null,
    null,
    null,
    by,
    toSqlTime(db.dialect, at),
  ]);
}

export async function upsertCheck(db: SqlRunner, service: string, check: { command: string | null; url: string | null; timeoutMs: number | null }, by: string, at: Date): Promise<void> {
  await db.execute(upsert(['check_command', 'check_url', 'check_timeout_ms']), [service, check.command, check.url, check.timeoutMs, by, toSqlTime(db.dialect, at)]);
}

export interface ContinuousState {
  buildId: number;
  /** deployed | waiting | skipped */
  state: string;
  reason: string;
  deployment: string | null;
}

/** Records what continuous deploy did with a build; false when it had recorded exactly that already (nothing to announce). */
export async function recordContinuousState(db: SqlRunner, service: string, state: ContinuousState, at: Date): Promise<boolean> {
  const result = await db.execute(
    `UPDATE service_delivery SET cd_build_id = ?, cd_state = ?, cd_reason = ?, cd_deployment = ?, cd_at = ?
      WHERE service = ? AND cd_enabled = 1 AND NOT (cd_build_id <=> ? AND cd_state <=> ? AND cd_reason <=> ?)`.replace(
      /<=>/g,
      db.dialect === 'mysql' ? '<=>' : 'IS',
    ),
    [state.buildId, state.state, state.reason, state.deployment, toSqlTime(db.dialect, at), service, state.buildId, state.state, state.reason],
  );
  return result.affected === 1;
}

export interface CheckRunInsert {
  service: string;
  buildId: number;
  kind: 'command' | 'url';
  target: string;
  ok: boolean;
  output: string;
  durationMs: number;
  ranBy: string;
  ranAt: Date;
}

export async function insertCheckRun(db: SqlRunner, row: CheckRunInsert): Promise<number> {
  const result = await db.execute(
    `INSERT INTO predeploy_checks (service, build_id, kind, target, ok, output, duration_ms, ran_by, ran_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [row.service, row.buildId, row.kind, row.target, row.ok ? 1 : 0, row.output, Math.round(row.durationMs), row.ranBy, toSqlTime(db.dialect, row.ranAt)],
  );
  return result.insertId;
}

export async function linkCheckRun(db: SqlRunner, id: number, deploymentId: number): Promise<void> {
  await db.execute(`UPDATE predeploy_checks SET deployment_id = ? WHERE id = ?`, [deploymentId, id]);
}

export interface CheckRun extends CheckRunInsert {
  id: number;
  deployment: string | null;
}

/** The newest check runs of a service, or the one that let a deployment through. */
export async function selectCheckRuns(db: SqlRunner, filter: { service: string; limit: number } | { deploymentId: number }): Promise<CheckRun[]> {
  const rows =
    'deploymentId' in filter
      ? await db.query(`SELECT * FROM predeploy_checks WHERE deployment_id = ? ORDER BY id DESC`, [filter.deploymentId])
      : await db.query(`SELECT * FROM predeploy_checks WHERE service = ? ORDER BY id DESC LIMIT ${Math.trunc(filter.limit)}`, [filter.service]);
  return rows.map((row) => ({
    id: Number(row.id),
    service: String(row.service),
    buildId: Number(row.build_id),
    deployment: row.deployment_id === null || row.deployment_id === undefined ? null : `d${Number(row.deployment_id)}`,
    kind: row.kind === 'url' ? 'url' : 'command',
    target: String(row.target),
    ok: Number(row.ok) === 1,
    output: String(row.output),
    durationMs: Number(row.duration_ms),
    ranBy: String(row.ran_by),
    ranAt: fromSqlTime(row.ran_at)!,
  }));
}
