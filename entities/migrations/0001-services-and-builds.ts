import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationName, runDialectSql } from './migration-name.ts';

// Shipped: never edit; add a new numbered migration instead.
export class ServicesAndBuilds implements MigrationInterface {
  readonly name = migrationName(1, 'ServicesAndBuilds');

  async up(runner: QueryRunner): Promise<void> {
    await runDialectSql(runner, {
      mysql: [
        `CREATE TABLE services (
           name          VARCHAR(64)   NOT NULL PRIMARY KEY,
           repo          VARCHAR(1024) NOT NULL,
           branch        VARCHAR(255)  NOT NULL DEFAULT 'main',
           build_command TEXT          NOT NULL,
           artifact_path VARCHAR(1024) NOT NULL,
           run_command   TEXT          NULL,
           created_at    DATETIME(3)   NOT NULL,
           updated_at    DATETIME(3)   NOT NULL
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
        `CREATE TABLE builds (
           id             BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
           service        VARCHAR(64)   NOT NULL,
           commit_sha     VARCHAR(64)   NOT NULL,
           artifact       VARCHAR(1024) NOT NULL,
           status         VARCHAR(16)   NOT NULL,
           created_at     DATETIME(3)   NOT NULL,
           started_at     DATETIME(3)   NULL,
           finished_at    DATETIME(3)   NULL,
           attempts       INT           NOT NULL DEFAULT 0,
           max_attempts   INT           NOT NULL,
           claimed_by     VARCHAR(255)  NULL,
           claim_token    VARCHAR(36)   NULL,
           last_heartbeat DATETIME(3)   NULL,
           failure_reason TEXT          NULL,
           digest         VARCHAR(64)   NULL,
           size           BIGINT        NULL,
           requested_by   VARCHAR(255)  NULL,
           cancelled_by   VARCHAR(255)  NULL,
           CONSTRAINT chk_builds_status CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED')),
           CONSTRAINT fk_builds_service FOREIGN KEY (service) REFERENCES services (name),
           INDEX idx_builds_claim (status, created_at, id),
           INDEX idx_builds_heartbeat (status, last_heartbeat),
           INDEX idx_builds_service (service, id)
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
      ],
      sqlite: [
        `CREATE TABLE services (
           name          VARCHAR(64)   NOT NULL PRIMARY KEY,
           repo          VARCHAR(1024) NOT NULL,
           branch        VARCHAR(255)  NOT NULL DEFAULT 'main',
           build_command TEXT          NOT NULL,
           artifact_path VARCHAR(1024) NOT NULL,
           run_command   TEXT          NULL,
           created_at    DATETIME      NOT NULL,
           updated_at    DATETIME      NOT NULL
         )`,
        // AUTOINCREMENT: build ids are never reused, even after the newest row is gone.
        `CREATE TABLE builds (
           id             INTEGER       NOT NULL PRIMARY KEY AUTOINCREMENT,
           service        VARCHAR(64)   NOT NULL REFERENCES services (name),
           commit_sha     VARCHAR(64)   NOT NULL,
           artifact       VARCHAR(1024) NOT NULL,
           status         VARCHAR(16)   NOT NULL CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED')),
           created_at     DATETIME      NOT NULL,
           started_at     DATETIME      NULL,
           finished_at    DATETIME      NULL,
           attempts       INTEGER       NOT NULL DEFAULT 0,
           max_attempts   INTEGER       NOT NULL,
           claimed_by     VARCHAR(255)  NULL,
           claim_token    VARCHAR(36)   NULL,
           last_heartbeat DATETIME      NULL,
           failure_reason TEXT          NULL,
           digest         VARCHAR(64)   NULL,
           size           BIGINT        NULL,
           requested_by   VARCHAR(255)  NULL,
           cancelled_by   VARCHAR(255)  NULL
         )`,
        `CREATE INDEX idx_builds_claim ON builds (status, created_at, id)`,
        `CREATE INDEX idx_builds_heartbeat ON builds (status, last_heartbeat)`,
        `CREATE INDEX idx_builds_service ON builds (service, id)`,
      ],
    });
  }

  async down(runner: QueryRunner): Promise<void> {
    await runDialectSql(runner, {
      mysql: ['DROP TABLE builds', 'DROP TABLE services'],
      sqlite: ['DROP TABLE builds', 'DROP TABLE services'],
    });
  }
}
