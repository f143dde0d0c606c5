import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationName, runDialectSql } from './migration-name.ts';

// Shipped: never edit; add a new numbered migration instead.
// Several coordinators run at once: `leases` says which one steps each rollout (`rollout:d12`)
// and which one is starting or writing a rollout of a service (`service:web`), with an expiry
// in the database's clock so a holder killed with -9 is replaced once it passes. Bot replicas
// share the Slack request signatures they have seen (`slack_replays`) so a request replayed to
// another replica is refused too.
export class LeasesSlackReplays implements MigrationInterface {
  readonly name = migrationName(12, 'LeasesSlackReplays');

  async up(runner: QueryRunner): Promise<void> {
    await runDialectSql(runner, {
      mysql: [
        `CREATE TABLE leases (
           name        VARCHAR(200)  NOT NULL PRIMARY KEY,
           holder      VARCHAR(200)  NOT NULL,
           expires_at  DATETIME(3)   NOT NULL
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
        `CREATE TABLE slack_replays (
           signature   VARCHAR(200)  NOT NULL PRIMARY KEY,
           expires_at  DATETIME(3)   NOT NULL,
           INDEX idx_slack_replays_expires (expires_at)
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
      ],
      sqlite: [
        `CREATE TABLE leases (
           name        VARCHAR(200)  NOT NULL PRIMARY KEY,
           holder      VARCHAR(200)  NOT NULL,
           expires_at  DATETIME      NOT NULL
         )`,
        `CREATE TABLE slack_replays (
           signature   VARCHAR(200)  NOT NULL PRIMARY KEY,
           expires_at  DATETIME      NOT NULL
         )`,
        `CREATE INDEX idx_slack_replays_expires ON slack_replays (expires_at)`,
      ],
    });
  }

  async down(runner: QueryRunner): Promise<void> {
    await runDialectSql(runner, {
      mysql: [`DROP TABLE slack_replays`, `DROP TABLE leases`],
      sqlite: [`DROP INDEX idx_slack_replays_expires`, `DROP TABLE slack_replays`, `DROP TABLE leases`],
    });
  }
}
