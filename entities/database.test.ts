import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../test/support/private-mariadb.ts';
import { dialects, freshDatabase, type TestDatabase } from '../test/support/databases.ts';
import { Database } from './database.ts';
import { migrations } from './migrations/index.ts';

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
