import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationName, runDialectSql } from './migration-name.ts';

// Shipped: never edit; add a new numbered migration instead.
// A service may gate its deploys' waves on a PromQL query (README, Metric gates): the query
// template, the highest value allowed, and how long it must hold after a wave converged. Null
// query: no metric gate, the agents' health alone decides (as before). The gate's outcome per
// wave is kept in deployments.waves (JSON), which needs no column.
export class ServiceMetricGates implements MigrationInterface {
  readonly name = migrationName(9, 'ServiceMetricGates');

  async up(runner: QueryRunner): Promise<void> {
    await runDialectSql(runner, {
      mysql: [
        `ALTER TABLE services
           ADD COLUMN metric_gate_query    TEXT    NULL,
           ADD COLUMN metric_gate_max      DOUBLE  NULL,
           ADD COLUMN metric_gate_hold_ms  BIGINT  NULL`,
      ],
      sqlite: [
        `ALTER TABLE services ADD COLUMN metric_gate_query TEXT NULL`,
        `ALTER TABLE services ADD COLUMN metric_gate_max REAL NULL`,
        `ALTER TABLE services ADD COLUMN metric_gate_hold_ms INTEGER NULL`,
      ],
    });
  }

  async down(runner: QueryRunner): Promise<void> {
    await runDialectSql(runner, {
      mysql: [`ALTER TABLE services DROP COLUMN metric_gate_hold_ms, DROP COLUMN metric_gate_max, DROP COLUMN metric_gate_query`],
      sqlite: [`ALTER TABLE services DROP COLUMN metric_gate_hold_ms`, `ALTER TABLE services DROP COLUMN metric_gate_max`, `ALTER TABLE services DROP COLUMN metric_gate_query`],
    });
  }
}
