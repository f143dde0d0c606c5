import { afterEach, beforeEach } from 'vitest';
import { BuildQueue } from '../../queue/index.ts';
import { ServiceRegistry } from '../../queue/services/index.ts';
import { Database, type Dialect } from '../../entities/index.ts';
import { freshDatabase, type TestDatabase } from './databases.ts';

/** A fresh database with the service `api` registered and a build queue over it. */
export interface QueueFixture {
  testDb: TestDatabase;
  db: Database;
  services: ServiceRegistry;
  queue: BuildQueue;
  close(): Promise<void>;
}

export async function openQueueFixture(dialect: Dialect, options: { maxAttempts?: number; poolSize?: number } = {}): Promise<QueueFixture> {
  const testDb = await freshDatabase(dialect);
  const db = await Database.open({ url: testDb.url, sqlitePath: testDb.sqlitePath, ...(options.poolSize ? { poolSize: options.poolSize } : {}) });
  const services = new ServiceRegistry(db);
  await services.add({ name: 'api', repo: '/srv/git/api', buildCommand: 'make', artifactPath: 'out/api' });
  const queue = new BuildQueue(db, services, options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts });
  return {
    testDb,
    db,
    services,
    queue,
    async close() {
      await db.close();
      await testDb.drop();
    },
  };
}

/**
 * Gives each test of the enclosing describe a fresh fixture: `ready` receives it before the
 * test (assign what the tests use), and it is closed after.
 */
export function useQueueFixture(dialect: Dialect, options: { maxAttempts?: number }, ready: (fixture: QueueFixture) => void): void {
  let fixture: QueueFixture | undefined;
  beforeEach(async () => {
    fixture = await openQueueFixture(dialect, options);
    ready(fixture);
  });
  afterEach(async () => {
    await fixture?.close();
    fixture = undefined;
  });
}
