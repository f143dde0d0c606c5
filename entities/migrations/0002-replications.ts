import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationName, runDialectSql } from './migration-name.ts';

// Shipped: never edit; add a new numbered migration instead.
export class Replications implements MigrationInterface {
  readonly name = migrationName(2, 'Replications');

  async up(runner: QueryRunner): Promise<void> {
    await runDialectSql(runner, {
      mysql: [
        `CREATE TABLE replications (
           id              BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
           build_id        BIGINT        NOT NULL,
           region          VARCHAR(64)   NOT NULL,
           object_name     VARCHAR(1024) NOT NULL,
           digest          VARCHAR(64)   NOT NULL,
           size            BIGINT        NOT NULL,
           status          VARCHAR(16)   NOT NULL,
           created_at      DATETIME(3)   NOT NULL,
           available_at    DATETIME(3)   NULL,
           started_at      DATETIME(3)   NULL,
           finished_at     DATETIME(3)   NULL,
           attempts        INT           NOT NULL DEFAULT 0,
           max_attempts    INT           NOT NULL,
           claimed_by      VARCHAR(255)  NULL,
           claim_token     VARCHAR(36)   NULL,
           last_heartbeat  DATETIME(3)   NULL,
           failure_reason  TEXT          NULL,
           bytes_copied    BIGINT        NOT NULL DEFAULT 0,
           verified_digest VARCHAR(64)   NULL,
           audited_at      DATETIME(3)   NULL,
           removed_at      DATETIME(3)   NULL,
           CONSTRAINT chk_replications_status CHECK (status IN ('PENDING', 'COPYING', 'DONE', 'FAILED')),
           CONSTRAINT fk_replications_build FOREIGN KEY (build_id) REFERENCES builds (id),
           UNIQUE KEY uq_replications_build_region (build_id, region),
           INDEX idx_replications_claim (status, region, created_at, id),
           INDEX idx_replications_heartbeat (status, last_heartbeat),
           INDEX idx_replications_audit (status, audited_at)
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
        `CREATE INDEX idx_builds_finished ON builds (status, finished_at)`,
      ],
      sqlite: [
        `CREATE TABLE replications (
           id              INTEGER       NOT NULL PRIMARY KEY AUTOINCREMENT,
           build_id        INTEGER       NOT NULL REFERENCES builds (id),
           region          VARCHAR(64)   NOT NULL,
           object_name     VARCHAR(1024) NOT NULL,
           digest          VARCHAR(64)   NOT NULL,
           size            BIGINT        NOT NULL,
           status          VARCHAR(16)   NOT NULL CHECK (status IN ('PENDING', 'COPYING', 'DONE', 'FAILED')),
           created_at      DATETIME      NOT NULL,
           available_at    DATETIME      NULL,
           started_at      DATETIME      NULL,
           finished_at     DATETIME      NULL,
           attempts        INTEGER       NOT NULL DEFAULT 0,
           max_attempts    INTEGER       NOT NULL,
           claimed_by      VARCHAR(255)  NULL,
           claim_token     VARCHAR(36)   NULL,
           last_heartbeat  DATETIME      NULL,
           failure_reason  TEXT          NULL,
           bytes_copied    BIGINT        NOT NULL DEFAULT 0,
           verified_digest VARCHAR(64)   NULL,
           audited_at      DATETIME      NULL,
           removed_at      DATETIME      NULL,
           UNIQUE (build_id, region)
         )`,
        `CREATE INDEX idx_replications_claim ON replications (status, region, created_at, id)`,
        `CREATE INDEX idx_replications_heartbeat ON replications (status, last_heartbeat)`,
        `CREATE INDEX idx_replications_audit ON replications (status, audited_at)`,
        `CREATE INDEX idx_builds_finished ON builds (status, finished_at)`,
      ],
    });
  }

  async down(runner: QueryRunner): Promise<void> {
    await runDialectSql(runner, {
      mysql: ['DROP INDEX idx_builds_finished ON builds', 'DROP TABLE replications'],
      sqlite: ['DROP INDEX idx_builds_finished', 'DROP TABLE replications'],
    });
  }
}
