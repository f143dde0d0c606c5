import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationName, runDialectSql } from './migration-name.ts';

// Shipped: never edit; add a new numbered migration instead.
// Services can be removed (archived: their builds and deployments stay, so history is kept).
// A build records what it used — the build and run commands, the health URL and the rest of the
// repository's fleetcast.yml — so a deploy or rollback of it runs what it was built for. GitHub
// commit statuses and deployments wait in an outbox and are delivered in order, with retries,
// whether GitHub answers or not; a cursor per source remembers how far the relay has looked.
export class ServicesAsCodeGithubOutbox implements MigrationInterface {
  readonly name = migrationName(10, 'ServicesAsCodeGithubOutbox');

  async up(runner: QueryRunner): Promise<void> {
    await runDialectSql(runner, {
      mysql: [
        `ALTER TABLE services
           ADD COLUMN removed_at  DATETIME(3)   NULL,
           ADD COLUMN removed_by  VARCHAR(200)  NULL`,
        `ALTER TABLE builds
           ADD COLUMN build_command  TEXT           NULL,
           ADD COLUMN run_command    TEXT           NULL,
           ADD COLUMN health_url     VARCHAR(2000)  NULL,
           ADD COLUMN build_config   TEXT           NULL`,
        `CREATE TABLE github_outbox (
           id               BIGINT         NOT NULL AUTO_INCREMENT PRIMARY KEY,
           event_key        VARCHAR(200)   NOT NULL,
           repo             VARCHAR(300)   NOT NULL,
           payload          TEXT           NOT NULL,
           created_at       DATETIME(3)    NOT NULL,
           attempts         INT            NOT NULL DEFAULT 0,
           next_attempt_at  DATETIME(3)    NOT NULL,
           delivered_at     DATETIME(3)    NULL,
           github_id        BIGINT         NULL,
           last_error       TEXT           NULL,
           UNIQUE KEY uq_github_outbox_event (event_key),
           INDEX idx_github_outbox_pending (delivered_at, id)
         ) ENGINE=InnoDB`,
        `CREATE TABLE github_cursors (
           name   VARCHAR(64)  NOT NULL PRIMARY KEY,
           value  BIGINT       NOT NULL
         ) ENGINE=InnoDB`,
      ],
      sqlite: [
        `ALTER TABLE services ADD COLUMN removed_at DATETIME NULL`,
        `ALTER TABLE services ADD COLUMN removed_by VARCHAR(200) NULL`,
        `ALTER TABLE builds ADD COLUMN build_command TEXT NULL`,
        `ALTER TABLE builds ADD COLUMN run_command TEXT NULL`,
        `ALTER TABLE builds ADD COLUMN health_url VARCHAR(2000) NULL`,
        `ALTER TABLE builds ADD COLUMN build_config TEXT NULL`,
        `CREATE TABLE github_outbox (
           id               INTEGER        NOT NULL PRIMARY KEY AUTOINCREMENT,
           event_key        VARCHAR(200)   NOT NULL UNIQUE,
           repo             VARCHAR(300)   NOT NULL,
           payload          TEXT           NOT NULL,
           created_at       DATETIME       NOT NULL,
           attempts         INTEGER        NOT NULL DEFAULT 0,
           next_attempt_at  DATETIME       NOT NULL,
           delivered_at     DATETIME       NULL,
           github_id        INTEGER        NULL,
           last_error       TEXT           NULL
         )`,
        `CREATE INDEX idx_github_outbox_pending ON github_outbox (delivered_at, id)`,
        `CREATE TABLE github_cursors (
           name   VARCHAR(64)  NOT NULL PRIMARY KEY,
           value  INTEGER      NOT NULL
         )`,
      ],
    });
  }

  async down(runner: QueryRunner): Promise<void> {
    await runDialectSql(runner, {
      mysql: [
        `DROP TABLE github_cursors`,
        `DROP TABLE github_outbox`,
        `ALTER TABLE builds DROP COLUMN build_config, DROP COLUMN health_url, DROP COLUMN run_command, DROP COLUMN build_command`,
        `ALTER TABLE services DROP COLUMN removed_by, DROP COLUMN removed_at`,
      ],
      sqlite: [
        `DROP TABLE github_cursors`,
        `DROP TABLE github_outbox`,
        `ALTER TABLE builds DROP COLUMN build_config`,
        `ALTER TABLE builds DROP COLUMN health_url`,
        `ALTER TABLE builds DROP COLUMN run_command`,
        `ALTER TABLE builds DROP COLUMN build_command`,
        `ALTER TABLE services DROP COLUMN removed_by`,
        `ALTER TABLE services DROP COLUMN removed_at`,
      ],
    });
  }
}
