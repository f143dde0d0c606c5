import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../test/support/private-mariadb.ts';
import { dialects, freshDatabase, type TestDatabase } from '../test/support/databases.ts';
import { Database } from './database.ts';
import { HonestDeploymentStates } from './migrations/0006-honest-deployment-states.ts';
import { migrations } from './migrations/index.ts';
import { toSqlTime } from './sql-time.ts';

describe.each(dialects)('Database on %s', (dialect) => {
  let testDb: TestDatabase;
  const open = () => Database.open({ url: testDb.url, sqlitePath: testDb.sqlitePath });

  beforeEach(async () => {
    testDb = await freshDatabase(dialect);
  });

  afterEach(async () => {
    await testDb.drop();
  });

  it('applies every migration once, and nothing on the next start', async () => {
    const first = await open();
    expect(await first.appliedMigrations()).toEqual(migrations.map((m) => new m().name));
    const [count] = await first.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM builds');
    expect(Number(count!.n)).toBe(0);
    await first.close();
    const second = await open();
    expect(await second.appliedMigrations()).toHaveLength(migrations.length);
    await second.close();
  });

  it('migrates once when several processes start together', async () => {
    const opened = await Promise.all(Array.from({ length: 4 }, open));
    expect(await opened[0]!.appliedMigrations()).toHaveLength(migrations.length);
    await Promise.all(opened.map((db) => db.close()));
  });

  it('0006 renames old deployment statuses honestly, and back', async () => {
    const db = await open();
    const runner = db.dataSource.createQueryRunner();
    const migration = new HonestDeploymentStates();
    try {
      await migration.down(runner);
      const now = toSqlTime(db.dialect, new Date());
      const rows: [string, string, string | null, typeof now | null][] = [
        ['api', 'APPLIED', null, now], // converged
        ['api', 'APPLIED', 'wave 2 (us) failed: 1 of 1 machines failed', null], // its last wave failed
        ['api', 'HALTED', 'wave 1 (eu) failed', null],
        ['api', 'APPLIED', null, null], // not converged, a newer deployment followed
        ['api', 'APPLIED', null, null], // not converged, the newest of api: judged again
        ['web', 'SUPERSEDED', null, null],
      ];
      for (const [service, status, error, convergedAt] of rows) {
        await db.execute(
          `INSERT INTO deployments (service, build_id, regions, kind, requested_by, reason, status, created_at, error, converged_at) VALUES (?, 1, 'eu,us', 'deploy', 'alice', '', ?, ?, ?, ?)`,
          [service, status, now, error, convergedAt],
        );
      }
      await migration.up(runner);
      const statuses = async () => (await db.query<{ status: string }>('SELECT status FROM deployments ORDER BY id')).map((row) => row.status);
      expect(await statuses()).toEqual(['CONVERGED', 'FAILED', 'FAILED', 'SUPERSEDED', 'ROLLING', 'SUPERSEDED']);
      await db.execute(`UPDATE deployments SET status = 'ROLLED_BACK', rollback_deployment = 'd9' WHERE id = 6`);
      await migration.down(runner);
      expect(await statuses()).toEqual(['APPLIED', 'FAILED', 'FAILED', 'SUPERSEDED', 'ROLLING', 'SUPERSEDED']);
      await migration.up(runner);
    } finally {
      await runner.release();
      await db.close();
    }
  });

  it('refuses a database migrated by a newer fleetcast', async () => {
    const db = await open();
    await db.execute(`INSERT INTO fleetcast_migrations (timestamp, name) VALUES (?, ?)`, [9_999, 'FromTheFuture0000000009999']);
    await db.close();
    await expect(open()).rejects.toMatchObject({
      code: 'DATABASE_TOO_NEW',
      message: expect.stringMatching(/FromTheFuture.*upgrade this one before starting it/),
    });
  });
});

it('says which database is unreachable, without its password', async () => {
  const port = await freePort();
  await expect(Database.open({ url: `mysql://root:s3cret@127.0.0.1:${port}/fleetcast` })).rejects.toMatchObject({
    code: 'DATABASE_UNAVAILABLE',
    message: expect.stringContaining(`mysql://127.0.0.1:${port}/fleetcast is unavailable`),
  });
  await expect(Database.open({ url: `mysql://root:s3cret@127.0.0.1:${port}/fleetcast` })).rejects.not.toMatchObject({
    message: expect.stringContaining('s3cret'),
  });
});

describe('SQLite durability', () => {
  it('runs with synchronous=FULL (2), so a power loss keeps the newest deployment or audit row', async () => {
    const testDb = await freshDatabase('sqlite');
    const db = await Database.open({ url: testDb.url, sqlitePath: testDb.sqlitePath });
    try {
      expect(await db.query('PRAGMA synchronous')).toEqual([{ synchronous: 2 }]);
      expect(await db.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    } finally {
      await db.close();
      await testDb.drop();
    }
  });
});
