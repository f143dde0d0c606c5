import { fromSqlTime, type Database } from '../../entities/index.ts';
import { FleetcastError } from '../../errors/index.ts';
import { validateServiceChange, validateServiceName, validateServiceSpec, type Service, type ServiceChange, type ServiceSpec } from './service.ts';

/** Columns of each field `update` may change, and how its value is stored in them. */
const changeColumns: Record<string, { columns: string[]; toSql(value: unknown): unknown[] }> = {
  branch: { columns: ['branch'], toSql: (v) => [v] },
  buildCommand: { columns: ['build_command'], toSql: (v) => [v] },
  artifactPath: { columns: ['artifact_path'], toSql: (v) => [v] },
  runCommand: { columns: ['run_command'], toSql: (v) => [v] },
  healthUrl: { columns: ['health_url'], toSql: (v) => [v] },
  buildNetwork: { columns: ['build_network'], toSql: (v) => [v ? 1 : 0] },
  buildEnv: { columns: ['build_env'], toSql: (v) => [JSON.stringify(v)] },
  wavePlan: { columns: ['wave_plan'], toSql: (v) => [v] },
  autoRollback: { columns: ['auto_rollback'], toSql: (v) => [v === null ? null : v ? 1 : 0] },
  metricGate: {
    columns: ['metric_gate_query', 'metric_gate_max', 'metric_gate_hold_ms'],
    toSql: (v) => {
      const gate = v as Service['metricGate'];
      return [gate?.query ?? null, gate?.max ?? null, gate?.holdMs ?? null];
    },
  },
};

/** What `update` did: the service as it is now and the fields whose value changed (empty: nothing to do). */
export interface ServiceUpdate {
  service: Service;
  changed: string[];
}

/**
 * The services fleetcast knows how to build. Rows are never deleted: builds and deployments
 * refer to them; a removed service is marked (removed_at) and hidden, and `add` of its name
 * registers it again.
 */
export class ServiceRegistry {
  constructor(private readonly db: Database) {}

  async add(spec: ServiceSpec): Promise<Service> {
    const service = validateServiceSpec(spec);
    const { affected } = await this.db.execute(
      {
        mysql: `INSERT IGNORE INTO services (name, repo, branch, build_command, artifact_path, run_command, health_url, build_network, build_env, metric_gate_query, metric_gate_max, metric_gate_hold_ms, wave_plan, auto_rollback, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))`,
        sqlite: `INSERT OR IGNORE INTO services (name, repo, branch, build_command, artifact_path, run_command, health_url, build_network, build_env, metric_gate_query, metric_gate_max, metric_gate_hold_ms, wave_plan, auto_rollback, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now'))`,
      },
      [
        ...[service.name, service.repo, service.branch, service.buildCommand, service.artifactPath, service.runCommand, service.healthUrl, service.buildNetwork ? 1 : 0, JSON.stringify(service.buildEnv)],
        ...[service.metricGate?.query ?? null, service.metricGate?.max ?? null, service.metricGate?.holdMs ?? null],
        ...[service.wavePlan, service.autoRollback === null ? null : service.autoRollback ? 1 : 0],
      ],
    );
    if (affected === 0) {
      // A removed service's name may be registered again: its row (and history) comes back with the new settings.
      const { affected: revived } = await this.db.execute(
        {
          mysql: `UPDATE services SET repo = ?, branch = ?, build_command = ?, artifact_path = ?, run_command = ?, health_url = ?, build_network = ?, build_env = ?,
                         metric_gate_query = ?, metric_gate_max = ?, metric_gate_hold_ms = ?, wave_plan = ?, auto_rollback = ?,
                         removed_at = NULL, removed_by = NULL, updated_at = UTC_TIMESTAMP(3)
                   WHERE name = ? AND removed_at IS NOT NULL`,
          sqlite: `UPDATE services SET repo = ?, branch = ?, build_command = ?, artifact_path = ?, run_command = ?, health_url = ?, build_network = ?, build_env = ?,
                          metric_gate_query = ?, metric_gate_max = ?, metric_gate_hold_ms = ?, wave_plan = ?, auto_rollback = ?,
                          removed_at = NULL, removed_by = NULL, updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now')
                    WHERE name = ? AND removed_at IS NOT NULL`,
        },
        [
          ...[service.repo, service.branch, service.buildCommand, service.artifactPath, service.runCommand, service.healthUrl, service.buildNetwork ? 1 : 0, JSON.stringify(service.buildEnv)],
          ...changeColumns.metricGate!.toSql(service.metricGate),
          ...[service.wavePlan, ...changeColumns.autoRollback!.toSql(service.autoRollback)],
          service.name,
        ],
      );
      if (revived === 0) throw new FleetcastError('CONFLICT', `service ${service.name} already exists; change it with: fleetcast service update ${service.name} …`, { service: service.name });
    }
    return this.get(service.name);
  }

  /**
   * Changes the given fields; the others keep their value. Idempotent: fields given with the
   * value they already have are not reported as changed (and nothing is written when none is).
   * Builds already queued keep the artifact path they were queued with.
   */
  async update(name: string, change: ServiceChange): Promise<ServiceUpdate> {
    const before = await this.get(name);
    const fields = validateServiceChange(change) as Record<string, unknown>;
    const changed = Object.keys(fields).filter((field) => field in changeColumns && JSON.stringify(fields[field]) !== JSON.stringify(before[field as keyof Service]));
    if (changed.length === 0) return { service: before, changed };
    const set = changed.flatMap((field) => changeColumns[field]!.columns.map((column) => `${column} = ?, `)).join('');
    await this.db.execute(
      {
        mysql: `UPDATE services SET ${set}updated_at = UTC_TIMESTAMP(3) WHERE name = ? AND removed_at IS NULL`,
        sqlite: `UPDATE services SET ${set}updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE name = ? AND removed_at IS NULL`,
      },
      [...changed.flatMap((field) => changeColumns[field]!.toSql(fields[field])), before.name],
    );
    return { service: await this.get(name), changed };
  }

  /**
   * Marks the service removed (hidden from get and list; new builds and deploys of it are
   * refused as unknown). Its builds, deployments and audit stay. Idempotent: true when this call
   * removed it, false when it was removed already.
   */
  async remove(name: string, by: string): Promise<boolean> {
    await this.isRemoved(name);
    const { affected } = await this.db.execute(
      {
        mysql: `UPDATE services SET removed_at = UTC_TIMESTAMP(3), removed_by = ?, updated_at = UTC_TIMESTAMP(3) WHERE name = ? AND removed_at IS NULL`,
        sqlite: `UPDATE services SET removed_at = strftime('%Y-%m-%d %H:%M:%f', 'now'), removed_by = ?, updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE name = ? AND removed_at IS NULL`,
      },
      [by.slice(0, 200), name],
    );
    return affected === 1;
  }

  /** Whether the service was removed; NOT_FOUND when it was never registered. */
  async isRemoved(name: string): Promise<boolean> {
    validateServiceName(name);
    const [row] = await this.db.query(`SELECT removed_at FROM services WHERE name = ?`, [name]);
    if (!row) throw unknownService(name);
    return row.removed_at !== null && row.removed_at !== undefined;
  }

  async get(name: string): Promise<Service> {
    validateServiceName(name);
    const [row] = await this.db.query(`SELECT * FROM services WHERE name = ? AND removed_at IS NULL`, [name]);
    if (!row) throw unknownService(name);
    return toService(row);
  }

  async list(): Promise<Service[]> {
    const rows = await this.db.query(`SELECT * FROM services WHERE removed_at IS NULL ORDER BY name`);
    return rows.map(toService);
  }
}

function unknownService(name: string): FleetcastError {
  return new FleetcastError('NOT_FOUND', `unknown service "${name}"; register it with: fleetcast service add ${name} …`, { service: name });
}

function toService(row: Record<string, unknown>): Service {
  return {
    name: String(row.name),
    repo: String(row.repo),
    branch: String(row.branch),
    buildCommand: String(row.build_command),
    artifactPath: String(row.artifact_path),
    runCommand: (row.run_command as string | null) ?? null,
    healthUrl: (row.health_url as string | null) ?? null,
    buildNetwork: Number(row.build_network ?? 1) !== 0,
    buildEnv: row.build_env ? (JSON.parse(String(row.build_env)) as Record<string, string>) : {},
    metricGate: row.metric_gate_query ? { query: String(row.metric_gate_query), max: Number(row.metric_gate_max), holdMs: Number(row.metric_gate_hold_ms ?? 0) } : null,
    wavePlan: (row.wave_plan as string | null | undefined) ?? null,
    autoRollback: row.auto_rollback === null || row.auto_rollback === undefined ? null : Number(row.auto_rollback) !== 0,
    createdAt: fromSqlTime(row.created_at)!,
  };
}
