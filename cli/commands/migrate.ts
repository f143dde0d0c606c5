import { Command } from 'commander';
import { loadConfig } from '../../config/index.ts';
import { printResult } from '../output.ts';
import { addSettingOptions, settingFlags } from '../setting-options.ts';

const names = ['FLEETCAST_DATA_DIR', 'FLEETCAST_DATABASE_URL'] as const;

export function migrateCommand(): Command {
  const command = new Command('migrate')
    .description('apply pending database migrations and list them (every role also migrates on start)')
    .option('--json', 'print one JSON document')
    .action(async (options: { json?: boolean }) => {
      const config = loadConfig(names, { flags: settingFlags(command, names) });
      // Loaded when run, so that other commands do not pay for TypeORM at start-up.
      const { Database, defaultSqlitePath, migrations } = await import('../../entities/index.ts');
      const db = await Database.open({ url: config.FLEETCAST_DATABASE_URL, sqlitePath: defaultSqlitePath(config.FLEETCAST_DATA_DIR) });
      try {
        const applied = await db.appliedMigrations();
        const result = { database: db.location, dialect: db.dialect, migrations: applied, known: migrations.length };
        printResult(options.json ?? false, result, () => `${db.location}: ${applied.length} migrations applied, schema up to date`);
      } finally {
        await db.close();
      }
    });
  return addSettingOptions(command, names);
}
