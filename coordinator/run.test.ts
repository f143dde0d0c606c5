import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clusterSecretPath } from '../config/index.ts';
import { silentLogger } from '../logging/index.ts';
import { connectAdmin, freshDatabase, testMysqlUrl, type TestDatabase } from '../test/support/databases.ts';
import { eventually } from '../test/support/eventually.ts';
import { loadCoordinatorConfig } from './config.ts';
import { runCoordinator } from './run.ts';

/** The resources keeping this process alive, by kind (timers, sockets…). */
function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/** Kinds of resources there are more of now than in `before`: what a start or stop left behind. */
function leftBehind(before: Record<string, number>): Record<string, number> {
  const extra: Record<string, number> = {};
  for (const [kind, count] of Object.entries(activeResources())) if (count > (before[kind] ?? 0)) extra[kind] = count - (before[kind] ?? 0);
  return extra;
}

/** Connections the MariaDB server holds open to `database`. */
async function connectionsTo(database: string): Promise<number> {
  const admin = await connectAdmin(testMysqlUrl);
  try {
    const [rows] = await admin.query(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ?`, [database]);
    return Number((rows as { n: number }[])[0]!.n);
  } finally {
    await admin.end();
  }
}

describe('runCoordinator', () => {
  let db: TestDatabase;
  let dataDir: string;
  let database: string;

  beforeEach(async () => {
    db = await freshDatabase('mysql');
    database = new URL(db.url!).pathname.slice(1);
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-coordinator-run-'));
  });

  afterEach(async () => {
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const config = () =>
    loadCoordinatorConfig({
      env: { FLEETCAST_DATA_DIR: dataDir, FLEETCAST_DATABASE_URL: db.url, FLEETCAST_LISTEN: '127.0.0.1:0', FLEETCAST_REAPER_INTERVAL: '100ms' },
    });

  it('undoes what it started when a later step fails: no reaper, loop or database connection is left', async () => {
    // The cluster secret is read after the database, the reaper, the buckets, replication and
    // the hub link have started: a secret file too short to use fails the start there.
    fs.writeFileSync(clusterSecretPath(dataDir), 'too short\n');
    const before = activeResources();

    await expect(runCoordinator(config(), { logger: silentLogger(), withoutNats: true })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });

    await eventually(async () => (await connectionsTo(database)) === 0, 5_000, 'the coordinator to close its database connections');
    await eventually(() => Object.keys(leftBehind(before)).length === 0, 5_000, 'no timer or socket left behind').catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(leftBehind(before))}`);
    });
  });

  it('stop() undoes everything a successful start did', async () => {
    const before = activeResources();
    const coordinator = await runCoordinator(config(), { logger: silentLogger(), withoutNats: true });
    expect(await connectionsTo(database)).toBeGreaterThan(0);
    await coordinator.stop();
    await eventually(async () => (await connectionsTo(database)) === 0, 5_000, 'the coordinator to close its database connections');
    await eventually(() => Object.keys(leftBehind(before)).length === 0, 5_000, 'no timer or socket left behind').catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(leftBehind(before))}`);
    });
  });
});
