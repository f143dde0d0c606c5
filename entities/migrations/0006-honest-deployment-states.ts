import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationName, runDialectSql } from './migration-name.ts';

// Shipped: never edit; add a new numbered migration instead.
// Honest deployment states (issue 19): a deployment ends CONVERGED, FAILED, ABORTED, SUPERSEDED or
// ROLLED_BACK, and may be PAUSED; APPLIED (which hid a failed last wave) and HALTED are gone.
// Old rows: HALTED and APPLIED with an error (its last wave failed) → FAILED; APPLIED and
// converged → CONVERGED; APPLIED not converged → ROLLING when it is the newest of its service (the
// wave runner judges it again: it converges or times out), else SUPERSEDED. rollback_deployment
// names the rollback that put a failed or aborted deployment's regions back ('pending' while it
// is being written).
const statuses = `('WRITING', 'ROLLING', 'PAUSED', 'CONVERGED', 'FAILED', 'ABORTED', 'SUPERSEDED', 'ROLLED_BACK')`;
const oldStatuses = `('WRITING', 'ROLLING', 'APPLIED', 'FAILED', 'HALTED', 'SUPERSEDED')`;

const newer = (table: string) => `EXISTS (SELECT 1 FROM deployments n WHERE n.service = ${table}.service AND n.id > ${table}.id)`;

function sqliteTable(name: string, check: string): string {
  return `CREATE TABLE ${name} (
           id                   INTEGER       NOT NULL PRIMARY KEY AUTOINCREMENT,
           service              VARCHAR(64)   NOT NULL,
           build_id             INTEGER       NOT NULL,
           regions              TEXT          NOT NULL,
           kind                 VARCHAR(16)   NOT NULL CHECK (kind IN ('deploy', 'rollback')),
           requested_by         VARCHAR(200)  NOT NULL,
           reason               TEXT          NOT NULL,
           status               VARCHAR(16)   NOT NULL CHECK (status IN ${check}),
           created_at           DATETIME      NOT NULL,
           error                TEXT          NULL,
           waves                TEXT          NULL,
           idempotency_key      VARCHAR(200)  NULL UNIQUE,
           updated_at           DATETIME      NULL,
           converged_at         DATETIME      NULL,
           rollback_deployment  VARCHAR(32)   NULL
         )`;
}

const columns = 'id, service, build_id, regions, kind, requested_by, reason, status, created_at, error, waves, idempotency_key, updated_at, converged_at';

export class HonestDeploymentStates implements MigrationInterface {
  readonly name = migrationName(6, 'HonestDeploymentStates');

  async up(runner: QueryRunner): Promise<void> {
    await runDialectSql(runner, {
      mysql: [
        `ALTER TABLE deployments DROP CONSTRAINT chk_deployments_status, ADD COLUMN rollback_deployment VARCHAR(32) NULL`,
        `UPDATE deployments SET status = 'FAILED' WHERE status = 'HALTED' OR (status = 'APPLIED' AND error IS NOT NULL)`,
        `UPDATE deployments SET status = 'CONVERGED' WHERE status = 'APPLIED' AND converged_at IS NOT NULL`,
        `UPDATE deployments d JOIN deployments n ON n.service = d.service AND n.id > d.id SET d.status = 'SUPERSEDED' WHERE d.status = 'APPLIED'`,
        `UPDATE deployments SET status = 'ROLLING' WHERE status = 'APPLIED'`,
        `ALTER TABLE deployments ADD CONSTRAINT chk_deployments_status CHECK (status IN ${statuses})`,
      ],
      // SQLite cannot change a CHECK constraint in place: the table is rebuilt, the rows mapped on the way.
      sqlite: [
        sqliteTable('deployments_new', statuses),
        `INSERT INTO deployments_new (${columns})
           SELECT ${columns.replace('status', `CASE
                    WHEN status = 'HALTED' OR (status = 'APPLIED' AND error IS NOT NULL) THEN 'FAILED'
                    WHEN status = 'APPLIED' AND converged_at IS NOT NULL THEN 'CONVERGED'
                    WHEN status = 'APPLIED' AND ${newer('d')} THEN 'SUPERSEDED'
                    WHEN status = 'APPLIED' THEN 'ROLLING'
                    ELSE status END`)} FROM deployments d`,
        `DROP TABLE deployments`,
        `ALTER TABLE deployments_new RENAME TO deployments`,
        `CREATE INDEX idx_deployments_service ON deployments (service, id)`,
        `CREATE INDEX idx_deployments_status ON deployments (status, id)`,
      ],
    });
  }

  async down(runner: QueryRunner): Promise<void> {
    // The old names: CONVERGED → APPLIED, a paused rollout → ROLLING, ended by a person → SUPERSEDED.
    const back = `CASE WHEN status = 'CONVERGED' THEN 'APPLIED' WHEN status = 'PAUSED' THEN 'ROLLING' WHEN status IN ('ABORTED', 'ROLLED_BACK') THEN 'SUPERSEDED' ELSE status END`;
    await runDialectSql(runner, {
      mysql: [
        `ALTER TABLE deployments DROP CONSTRAINT chk_deployments_status, DROP COLUMN rollback_deployment`,
        `UPDATE deployments SET status = ${back}`,
        `ALTER TABLE deployments ADD CONSTRAINT chk_deployments_status CHECK (status IN ${oldStatuses})`,
      ],
      sqlite: [
        sqliteTable('deployments_old', oldStatuses).replace(/,\s*rollback_deployment\s+VARCHAR\(32\)\s+NULL/, ''),
        `INSERT INTO deployments_old (${columns}) SELECT ${columns.replace('status', back)} FROM deployments`,
        `DROP TABLE deployments`,
        `ALTER TABLE deployments_old RENAME TO deployments`,
        `CREATE INDEX idx_deployments_service ON deployments (service, id)`,
        `CREATE INDEX idx_deployments_status ON deployments (status, id)`,
      ],
    });
  }
}
