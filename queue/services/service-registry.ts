import { fromSqlTime, type Database } from '../../entities/index.ts';
import { FleetcastError } from '../../errors/index.ts';
import { validateServiceName, validateServiceSpec, type Service, type ServiceSpec } from './service.ts';

/** The services fleetcast knows how to build. Rows are never deleted: builds refer to them. */
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
      throw new FleetcastError('CONFLICT', `service ${service.name} already exists`, { service: service.name });
    }
    return this.get(service.name);
  }

  async get(name: string): Promise<Service> {
    validateServiceName(name);
    const [row] = await this.db.query(`SELECT * FROM services WHERE name = ?`, [name]);
    if (!row) {
      throw new FleetcastError('NOT_FOUND', `unknown service "${name}"; register it with: fleetcast service add ${name} …`, {
        service: name,
      });
    }
    return toService(row);
  }

  async list(): Promise<Service[]> {
    const rows = await this.db.query(`SELECT * FROM services ORDER BY name`);
    return rows.map(toService);
  }
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
