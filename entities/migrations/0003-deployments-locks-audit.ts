import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationName, runDialectSql } from './migration-name.ts';

// Shipped: never edit; add a new numbered migration instead.
// `audit` is append-only history: nothing in fleetcast updates or deletes its rows.
export class DeploymentsLocksAudit implements MigrationInterface {
  readonly name = migrationName(3, 'DeploymentsLocksAudit');

  async up(runner: QueryRunner): Promise<void> {
    await runDialectSql(runner, {
      mysql: [
        `CREATE TABLE deployments (
           id            BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
           service       VARCHAR(64)   NOT NULL,
           build_id      BIGINT        NOT NULL,
           regions       TEXT          NOT NULL,
           kind          VARCHAR(16)   NOT NULL,
           requested_by  VARCHAR(200)  NOT NULL,
           reason        TEXT          NOT NULL,
           status        VARCHAR(16)   NOT NULL,
           created_at    DATETIME(3)   NOT NULL,
           error         TEXT          NULL,
           CONSTRAINT chk_deployments_kind CHECK (kind IN ('deploy', 'rollback')),
           CONSTRAINT chk_deployments_status CHECK (status IN ('WRITING', 'APPLIED', 'FAILED')),
           INDEX idx_deployments_service (service, id)
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
        `CREATE TABLE locks (
           service    VARCHAR(64)  NOT NULL PRIMARY KEY,
           locked_by  VARCHAR(200) NOT NULL,
           reason     TEXT         NOT NULL,
           since      DATETIME(3)  NOT NULL
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
        `CREATE TABLE audit (
           id      BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
           at      DATETIME(3)   NOT NULL,
           actor   VARCHAR(200)  NOT NULL,
           action  VARCHAR(32)   NOT NULL,
           target  VARCHAR(255)  NOT NULL,
           result  VARCHAR(16)   NOT NULL,
           detail  TEXT          NOT NULL,
           CONSTRAINT chk_audit_result CHECK (result IN ('ok', 'refused', 'error')),
           INDEX idx_audit_target (target, id)
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
      ],
      sqlite: [
        `CREATE TABLE deployments (
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
        `CREATE INDEX idx_deployments_service ON deployments (service, id)`,
        `CREATE TABLE locks (
           service    VARCHAR(64)  NOT NULL PRIMARY KEY,
           locked_by  VARCHAR(200) NOT NULL,
           reason     TEXT         NOT NULL,
           since      DATETIME     NOT NULL
         )`,
        `CREATE TABLE audit (
           id      INTEGER       NOT NULL PRIMARY KEY AUTOINCREMENT,
           at      DATETIME      NOT NULL,
           actor   VARCHAR(200)  NOT NULL,
           action  VARCHAR(32)   NOT NULL,
           target  VARCHAR(255)  NOT NULL,
           result  VARCHAR(16)   NOT NULL CHECK (result IN ('ok', 'refused', 'error')),
           detail  TEXT          NOT NULL
         )`,
        `CREATE INDEX idx_audit_target ON audit (target, id)`,
      ],
    });
  }

  async down(runner: QueryRunner): Promise<void> {
    await runDialectSql(runner, {
      mysql: ['DROP TABLE audit', 'DROP TABLE locks', 'DROP TABLE deployments'],
      sqlite: ['DROP TABLE audit', 'DROP TABLE locks', 'DROP TABLE deployments'],
    });
  }
}
