import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationName, runDialectSql } from './migration-name.ts';

// Webhook delivery ids are remembered in SQL (a coordinator restart or a second coordinator
// must not queue a redelivered push again): the row is inserted before any build is queued,
// and `builds` holds what the delivery queued once it has. The audit gets indexes for the
// filters of GET /v1/audit (actor, action, time).
export class WebhookDeliveriesAuditIndexes implements MigrationInterface {
  readonly name = migrationName(5, 'WebhookDeliveriesAuditIndexes');

  async up(runner: QueryRunner): Promise<void> {
    await runDialectSql(runner, {
      mysql: [
        `CREATE TABLE webhook_deliveries (
           id           VARCHAR(200)  NOT NULL PRIMARY KEY,
           received_at  DATETIME(3)   NOT NULL,
           builds       TEXT          NULL
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
        `ALTER TABLE audit ADD INDEX idx_audit_actor (actor, id), ADD INDEX idx_audit_action (action, id), ADD INDEX idx_audit_at (at)`,
      ],
      sqlite: [
        `CREATE TABLE webhook_deliveries (
           id           VARCHAR(200)  NOT NULL PRIMARY KEY,
           received_at  DATETIME      NOT NULL,
           builds       TEXT          NULL
         )`,
        `CREATE INDEX idx_audit_actor ON audit (actor, id)`,
        `CREATE INDEX idx_audit_action ON audit (action, id)`,
        `CREATE INDEX idx_audit_at ON audit (at)`,
      ],
    });
  }

  async down(runner: QueryRunner): Promise<void> {
    await runDialectSql(runner, {
      mysql: [`ALTER TABLE audit DROP INDEX idx_audit_at, DROP INDEX idx_audit_action, DROP INDEX idx_audit_actor`, `DROP TABLE webhook_deliveries`],
      sqlite: [`DROP INDEX idx_audit_at`, `DROP INDEX idx_audit_action`, `DROP INDEX idx_audit_actor`, `DROP TABLE webhook_deliveries`],
    });
  }
}
