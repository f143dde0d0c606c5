import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationName, runDialectSql } from './migration-name.ts';

// Shipped: never edit; add a new numbered migration instead.
// The delivery loop (issue 23): freeze windows (one-off, or weekly in a time zone; service NULL =
// every service), each service's continuous-deploy opt-in and what it last did (level-triggered:
// a restarted coordinator reads it back), its pre-deploy check, and every check run (kept, with
// its bounded output and the deployment it let through).
export class DeliveryLoop implements MigrationInterface {
  readonly name = migrationName(11, 'DeliveryLoop');

  async up(runner: QueryRunner): Promise<void> {
    await runDialectSql(runner, {
      mysql: [
        `CREATE TABLE freeze_windows (
           id          BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
           service     VARCHAR(64)   NULL,
           kind        VARCHAR(8)    NOT NULL,
           starts_at   DATETIME(3)   NULL,
           ends_at     DATETIME(3)   NULL,
           weekly      VARCHAR(64)   NULL,
           time_zone   VARCHAR(64)   NULL,
           reason      TEXT          NOT NULL,
           created_by  VARCHAR(200)  NOT NULL,
           created_at  DATETIME(3)   NOT NULL,
           removed_by  VARCHAR(200)  NULL,
           removed_at  DATETIME(3)   NULL,
           CONSTRAINT chk_freeze_kind CHECK (kind IN ('once', 'weekly')),
           INDEX idx_freeze_service (service, removed_at)
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
        `CREATE TABLE service_delivery (
           service           VARCHAR(64)   NOT NULL PRIMARY KEY,
           cd_enabled        TINYINT(1)    NOT NULL DEFAULT 0,
           cd_branch         VARCHAR(200)  NULL,
           cd_build_id       BIGINT        NULL,
           cd_state          VARCHAR(16)   NULL,
           cd_reason         TEXT          NULL,
           cd_deployment     VARCHAR(32)   NULL,
           cd_at             DATETIME(3)   NULL,
           check_command     TEXT          NULL,
           check_url         TEXT          NULL,
           check_timeout_ms  INT           NULL,
           updated_by        VARCHAR(200)  NOT NULL,
           updated_at        DATETIME(3)   NOT NULL
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
        `CREATE TABLE predeploy_checks (
           id             BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
           service        VARCHAR(64)   NOT NULL,
           build_id       BIGINT        NOT NULL,
           deployment_id  BIGINT        NULL,
           kind           VARCHAR(8)    NOT NULL,
           target         TEXT          NOT NULL,
           ok             TINYINT(1)    NOT NULL,
           output         TEXT          NOT NULL,
           duration_ms    INT           NOT NULL,
           ran_by         VARCHAR(200)  NOT NULL,
           ran_at         DATETIME(3)   NOT NULL,
           INDEX idx_checks_service (service, id),
           INDEX idx_checks_deployment (deployment_id)
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
      ],
      sqlite: [
        `CREATE TABLE freeze_windows (
           id          INTEGER       NOT NULL PRIMARY KEY AUTOINCREMENT,
           service     VARCHAR(64)   NULL,
           kind        VARCHAR(8)    NOT NULL CHECK (kind IN ('once', 'weekly')),
           starts_at   DATETIME      NULL,
           ends_at     DATETIME      NULL,
           weekly      VARCHAR(64)   NULL,
           time_zone   VARCHAR(64)   NULL,
           reason      TEXT          NOT NULL,
           created_by  VARCHAR(200)  NOT NULL,
           created_at  DATETIME      NOT NULL,
           removed_by  VARCHAR(200)  NULL,
           removed_at  DATETIME      NULL
         )`,
        `CREATE INDEX idx_freeze_service ON freeze_windows (service, removed_at)`,
        `CREATE TABLE service_delivery (
           service           VARCHAR(64)   NOT NULL PRIMARY KEY,
           cd_enabled        INTEGER       NOT NULL DEFAULT 0,
           cd_branch         VARCHAR(200)  NULL,
           cd_build_id       INTEGER       NULL,
           cd_state          VARCHAR(16)   NULL,
           cd_reason         TEXT          NULL,
           cd_deployment     VARCHAR(32)   NULL,
           cd_at             DATETIME      NULL,
           check_command     TEXT          NULL,
           check_url         TEXT          NULL,
           check_timeout_ms  INTEGER       NULL,
           updated_by        VARCHAR(200)  NOT NULL,
           updated_at        DATETIME      NOT NULL
         )`,
        `CREATE TABLE predeploy_checks (
           id             INTEGER       NOT NULL PRIMARY KEY AUTOINCREMENT,
           service        VARCHAR(64)   NOT NULL,
           build_id       INTEGER       NOT NULL,
           deployment_id  INTEGER       NULL,
           kind           VARCHAR(8)    NOT NULL,
           target         TEXT          NOT NULL,
           ok             INTEGER       NOT NULL,
           output         TEXT          NOT NULL,
           duration_ms    INTEGER       NOT NULL,
           ran_by         VARCHAR(200)  NOT NULL,
           ran_at         DATETIME      NOT NULL
         )`,
        `CREATE INDEX idx_checks_service ON predeploy_checks (service, id)`,
        `CREATE INDEX idx_checks_deployment ON predeploy_checks (deployment_id)`,
      ],
    });
  }

  async down(runner: QueryRunner): Promise<void> {
    await runDialectSql(runner, {
      mysql: [`DROP TABLE predeploy_checks`, `DROP TABLE service_delivery`, `DROP TABLE freeze_windows`],
      sqlite: [`DROP TABLE predeploy_checks`, `DROP TABLE service_delivery`, `DROP TABLE freeze_windows`],
    });
  }
}
