// Claims per second and claim latency of the build queue at 1, 8 and 32 concurrent workers on
// MariaDB, against a bare mysql2 loop running the very same SQL in the same run (the ceiling);
// and the same on SQLite against bare better-sqlite3.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import BetterSqlite3 from 'better-sqlite3';
import mysql from 'mysql2/promise';
import { BuildQueue, buildsTable } from '../queue/index.ts';
import { mysqlClaimBatch, sqliteClaim } from '../queue/sql/claim.ts';
import { ServiceRegistry } from '../queue/services/index.ts';
import { Database } from '../entities/index.ts';
import { freshDatabase, type TestDatabase } from '../test/support/databases.ts';
import { row, type Benchmark, type BenchRow } from './report.ts';

interface Run {
  claimsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  duplicates: number;
  claimed: number;
}

/** Runs `workers` loops of `claimOne` until the queue is empty. */
async function drain(workers: number, claimOne: (worker: string) => Promise<number | null>): Promise<Run> {
  const latencies: number[] = [];
  const ids: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, n) => {
      for (;;) {
        const t0 = performance.now();
        const id = await claimOne(`w${n}`);
        if (id === null) return;
        latencies.push(performance.now() - t0);
        ids.push(id);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { claimsPerSecond: ids.length / seconds, p50Ms: at(0.5), p99Ms: at(0.99), duplicates: ids.length - new Set(ids).size, claimed: ids.length };
}

const insertBatch = (dialect: 'mysql' | 'sqlite', count: number) =>
  `INSERT INTO builds (service, commit_sha, artifact, status, created_at, attempts, max_attempts) VALUES ` +
  Array.from({ length: count }, () =>
    dialect === 'mysql'
      ? `('api', 'abcdef1', 'api', 'QUEUED', UTC_TIMESTAMP(3), 0, 3)`
      : `('api', 'abcdef1', 'api', 'QUEUED', strftime('%Y-%m-%d %H:%M:%f', 'now'), 0, 3)`,
  ).join(', ');

async function refill(db: Database, jobs: number): Promise<void> {
  await db.execute(`DELETE FROM builds`);
  for (let done = 0; done < jobs; done += 500) await db.execute(insertBatch(db.dialect, Math.min(500, jobs - done)));
}

// The batch of queue/sql/claim.ts, sent by mysql2 directly.
async function rawMysqlClaim(pool: mysql.Pool, worker: string): Promise<number | null> {
  const token = randomUUID();
  const [results] = await pool.query<mysql.RowDataPacket[][]>(mysqlClaimBatch(buildsTable), [worker, token, token]);
  const found = results.at(-1)?.[0];
  return found ? Number(found.id) : null;
}

async function measure(dialect: 'mysql' | 'sqlite', workerCounts: number[], jobs: number): Promise<BenchRow[]> {
  const testDb: TestDatabase = await freshDatabase(dialect);
  const db = await Database.open({ url: testDb.url, sqlitePath: testDb.sqlitePath, poolSize: 40 });
  const rows: BenchRow[] = [];
  const pool = dialect === 'mysql' ? mysql.createPool({ uri: testDb.url!, connectionLimit: 40, timezone: 'Z', multipleStatements: true }) : undefined;
  const sqlite = dialect === 'sqlite' ? new BetterSqlite3(testDb.sqlitePath!, { timeout: 15_000 }) : undefined;
  try {
    const services = new ServiceRegistry(db);
    await services.add({ name: 'api', repo: '/srv/git/api', buildCommand: 'make', artifactPath: 'api' });
    const queue = new BuildQueue(db, services);
    const rawSqliteClaim = sqlite?.prepare(sqliteClaim(buildsTable));
    const label = dialect === 'mysql' ? 'mariadb' : 'sqlite';

    for (const workers of workerCounts) {
      await refill(db, jobs);
      const raw = await drain(workers, async (worker) => {
        if (pool) return rawMysqlClaim(pool, worker);
        const found = rawSqliteClaim!.get(worker, randomUUID()) as { id: number } | undefined;
        return found ? Number(found.id) : null;
      });
      await refill(db, jobs);
      const ours = await drain(workers, async (worker) => (await queue.claim(worker))?.build.id ?? null);
      if (ours.claimed !== jobs || raw.claimed !== jobs) throw new Error(`lost claims: ours ${ours.claimed}, raw ${raw.claimed} of ${jobs}`);

      const isTarget = dialect === 'mysql' && workers === 32;
      const ratio = ours.claimsPerSecond / raw.claimsPerSecond;
      rows.push(
        row(`${label} claims/s @${workers} workers`, ours.claimsPerSecond, 'claims/s', {
          baseline: raw.claimsPerSecond,
          target: isTarget ? '>= 0.8 x raw mysql2 and >= 1000/s' : null,
          pass: isTarget ? ratio >= 0.8 && ours.claimsPerSecond >= 1000 : null,
        }),
        row(`${label} claim p50 @${workers}`, ours.p50Ms, 'ms', { baseline: raw.p50Ms, higherIsBetter: false }),
        row(`${label} claim p99 @${workers}`, ours.p99Ms, 'ms', { baseline: raw.p99Ms, higherIsBetter: false }),
        row(`${label} duplicate claims @${workers}`, ours.duplicates + raw.duplicates, 'claims', { target: '= 0', pass: ours.duplicates + raw.duplicates === 0 }),
      );
    }
  } finally {
    await pool?.end();
    sqlite?.close();
    await db.close();
    await testDb.drop();
  }
  return rows;
}

export const queueBenchmark: Benchmark = {
  name: 'queue',
  description: 'build queue claims/s and latency at 1, 8, 32 workers vs a bare SQL loop (MariaDB, SQLite)',
  async run({ quick }) {
    const jobs = quick ? 300 : 4_000;
    return [...(await measure('mysql', [1, 8, 32], jobs)), ...(await measure('sqlite', [1, 8, 32], jobs))];
  },
};
