import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationName, runDialectSql } from './migration-name.ts';

// Shipped: never edit; add a new numbered migration instead.
// Services may have their own wave plan (shares of regions allowed: eu:1%;eu;us,ap) and their
// own choice about rolling a failed wave back (NULL: follow FLEETCAST_DEPLOY_AUTO_ROLLBACK).
export class ServiceWavePlanAutoRollback implements MigrationInterface {
  readonly name = migrationName(8, 'ServiceWavePlanAutoRollback');

  async up(runner: QueryRunner): Promise<void> {
    await runDialectSql(runner, {
      mysql: [
        `ALTER TABLE services
           ADD COLUMN wave_plan      VARCHAR(1000) NULL,
           ADD COLUMN auto_rollback  TINYINT(1)    NULL`,
      ],
      sqlite: [`ALTER TABLE services ADD COLUMN wave_plan VARCHAR(1000) NULL`, `ALTER TABLE services ADD COLUMN auto_rollback INTEGER NULL`],
    });
  }

  async down(runner: QueryRunner): Promise<void> {
    await runDialectSql(runner, {
      mysql: [`ALTER TABLE services DROP COLUMN auto_rollback, DROP COLUMN wave_plan`],
      sqlite: [`ALTER TABLE services DROP COLUMN auto_rollback`, `ALTER TABLE services DROP COLUMN wave_plan`],
    });
  }
}
