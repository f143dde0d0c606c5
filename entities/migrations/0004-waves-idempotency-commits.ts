import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationName, runDialectSql } from './migration-name.ts';

// Shipped: never edit; add a new numbered migration instead.
// Deployments roll out in waves (ROLLING until the last wave is written, HALTED when a wave
// fails, SUPERSEDED when a newer deployment of the service takes over), remember when the fleet
// converged, and carry the client's Idempotency-Key. Builds remember who wrote their commit, for
// the deploy preview. Services may name a health URL the agents check after a switch.
const statuses = `('WRITING', 'ROLLING', 'APPLIED', 'FAILED', 'HALTED', 'SUPERSEDED')`;

export class WavesIdempotencyCommits implements MigrationInterface {
  readonly name = migrationName(4, 'WavesIdempotencyCommits');

  async up(runner: QueryRunner): Promise<void> {
    await runDialectSql(runner, {
      mysql: [
        `ALTER TABLE deployments
           DROP CONSTRAINT chk_deployments_status,
           ADD CONSTRAINT chk_deployments_status CHECK (status IN ${statuses}),
           ADD COLUMN waves            TEXT          NULL,
           ADD COLUMN idempotency_key  VARCHAR(200)  NULL,
           ADD COLUMN updated_at       DATETIME(3)   NULL,
           ADD COLUMN converged_at     DATETIME(3)   NULL,
           ADD UNIQUE KEY uq_deployments_idempotency (idempotency_key),
           ADD INDEX idx_deployments_status (status, id)`,
        `ALTER TABLE builds
           ADD COLUMN commit_author   VARCHAR(255)  NULL,
           ADD COLUMN commit_subject  VARCHAR(500)  NULL`,
        `ALTER TABLE services ADD COLUMN health_url VARCHAR(2000) NULL`,
      ],
      // SQLite cannot change a CHECK constraint in place: the table is rebuilt.
      sqlite: [
        `CREATE TABLE deployments_new (
           id               INTEGER       NOT NULL PRIMARY KEY AUTOINCREMENT,
           service          VARCHAR(64)   NOT NULL,
           build_id         INTEGER       NOT NULL,
           regions          TEXT          NOT NULL,
           kind             VARCHAR(16)   NOT NULL CHECK (kind IN ('deploy', 'rollback')),
           requested_by     VARCHAR(200)  NOT NULL,
           reason           TEXT          NOT NULL,
           status           VARCHAR(16)   NOT NULL CHECK (status IN ${statuses}),
           created_at       DATETIME      NOT NULL,
           error            TEXT          NULL,
           waves            TEXT          NULL,
           idempotency_key  VARCHAR(200)  NULL UNIQUE,
           updated_at       DATETIME      NULL,
           converged_at     DATETIME      NULL
         )`,
        `INSERT INTO deployments_new (id, service, build_id, regions, kind, requested_by, reason, status, created_at, error)
           SELECT id, service, build_id, regions, kind, requested_by, reason, status, created_at, error FROM deployments`,
        `DROP TABLE deployments`,
        `ALTER TABLE deployments_new RENAME TO deployments`,
        `CREATE INDEX idx_deployments_service ON deployments (service, id)`,
        `CREATE INDEX idx_deployments_status ON deployments (status, id)`,
        `ALTER TABLE builds ADD COLUMN commit_author VARCHAR(255) NULL`,
        `ALTER TABLE builds ADD COLUMN commit_subject VARCHAR(500) NULL`,
        `ALTER TABLE services ADD COLUMN health_url VARCHAR(2000) NULL`,
      ],
    });
  }

  async down(runner: QueryRunner): Promise<void> {
    // Deployments in the new statuses would break the old CHECK: they become FAILED.
    await runDialectSql(runner, {
      mysql: [
        `UPDATE deployments SET status = 'FAILED' WHERE status IN ('ROLLING', 'HALTED', 'SUPERSEDED')`,
        `ALTER TABLE services DROP COLUMN health_url`,
        `ALTER TABLE builds DROP COLUMN commit_subject, DROP COLUMN commit_author`,
        `ALTER TABLE deployments
           DROP INDEX idx_deployments_status, DROP INDEX uq_deployments_idempotency,
           DROP COLUMN converged_at, DROP COLUMN updated_at, DROP COLUMN idempotency_key, DROP COLUMN waves,
           DROP CONSTRAINT chk_deployments_status,
           ADD CONSTRAINT chk_deployments_status CHECK (status IN ('WRITING', 'APPLIED', 'FAILED'))`,
      ],
      sqlite: [
        `CREATE TABLE deployments_old (
           id            INTEGER       NOT NULL PRIMARY KEY AUTOINCREMENT,
           service       VARCHAR(64)   NOT NULL,
           build_id      INTEGER       NOT NULL,
           regions       TEXT          NOT NULL,
           kind          VARCHAR(16)   NOT NULL CHECK (kind IN ('deploy', 'rollback')),
           requested_by  VARCHAR(200)  NOT NULL,
           reason        TEXT          NOT NULL,
           status        VARCHAR(16)   NOT NULL CHECK (status IN ('WRITING', 'APPLIED', 'FAILED')),
           created_at    DATETIME      NOT NULL,
           error         TEXT          NULL
         )`,
        `INSERT INTO deployments_old (id, service, build_id, regions, kind, requested_by, reason, status, created_at, error)
           SELECT id, service, build_id, regions, kind, requested_by, reason,
                  CASE WHEN status IN ('WRITING', 'APPLIED', 'FAILED') THEN status ELSE 'FAILED' END, created_at, error FROM deployments`,
        `DROP TABLE deployments`,
        `ALTER TABLE deployments_old RENAME TO deployments`,
        `CREATE INDEX idx_deployments_service ON deployments (service, id)`,
        `ALTER TABLE builds DROP COLUMN commit_subject`,
        `ALTER TABLE builds DROP COLUMN commit_author`,
        `ALTER TABLE services DROP COLUMN health_url`,
      ],
    });
  }
}
