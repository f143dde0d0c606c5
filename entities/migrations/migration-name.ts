import type { QueryRunner } from 'typeorm';
import type { Dialect } from '../dialect.ts';

/**
 * TypeORM orders migrations by the 13 digits that end their name (it expects a timestamp);
 * fleetcast numbers them instead, so `migrationName(1, 'ServicesAndBuilds')` is
 * `ServicesAndBuilds0000000000001`.
 */
export function migrationName(number: number, title: string): string {
  return `${title}${String(number).padStart(13, '0')}`;
}

export async function runDialectSql(runner: QueryRunner, statements: Record<Dialect, string[]>): Promise<void> {
  const dialect: Dialect = runner.connection.options.type === 'mysql' ? 'mysql' : 'sqlite';
  for (const sql of statements[dialect]) await runner.query(sql);
}
