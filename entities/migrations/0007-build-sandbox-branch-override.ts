import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationName, runDialectSql } from './migration-name.ts';

// Shipped: never edit; add a new numbered migration instead.
// Services say whether their builds may use the network and which variables their builds get
// (the build sandbox passes nothing else). A build of a commit off the service's branch names
// the admin who allowed it.
export class BuildSandboxBranchOverride implements MigrationInterface {
  readonly name = migrationName(7, 'BuildSandboxBranchOverride');

  async up(runner: QueryRunner): Promise<void> {
    await runDialectSql(runner, {
      mysql: [
        `ALTER TABLE services
           ADD COLUMN build_network  TINYINT(1)  NOT NULL DEFAULT 1,
           ADD COLUMN build_env      TEXT        NULL`,
        `ALTER TABLE builds ADD COLUMN branch_override_by VARCHAR(200) NULL`,
      ],
      sqlite: [
        `ALTER TABLE services ADD COLUMN build_network INTEGER NOT NULL DEFAULT 1`,
        `ALTER TABLE services ADD COLUMN build_env TEXT NULL`,
        `ALTER TABLE builds ADD COLUMN branch_override_by VARCHAR(200) NULL`,
      ],
    });
  }

  async down(runner: QueryRunner): Promise<void> {
    await runDialectSql(runner, {
      mysql: [`ALTER TABLE builds DROP COLUMN branch_override_by`, `ALTER TABLE services DROP COLUMN build_env, DROP COLUMN build_network`],
      sqlite: [`ALTER TABLE builds DROP COLUMN branch_override_by`, `ALTER TABLE services DROP COLUMN build_env`, `ALTER TABLE services DROP COLUMN build_network`],
    });
  }
}
