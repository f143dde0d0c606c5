// npm run bench -- dashboard [CLIENTS]
// 500 open dashboards against 1, during deploys: a real coordinator (SQLite) with a private NATS
// hub and a leaf per region; the simulated browsers (bench/dashboard-clients.ts) in another
// process hold WebSockets subscribed to the fleet as the page does. Each round locks the service
// with a marker reason, unlocks it and deploys a new build with a marker reason; the clients note
// when they first see each marker. Rows: event delivery p50/p99 (change made → client saw it),
// the coordinator's CPU, and SQL statements per second, with 500 clients against 1.
import { performance } from 'node:perf_hooks';
import { serviceBody, startTestCoordinator, type TestCoordinator } from '../test/support/coordinator.ts';
import { deployableBuild } from '../test/support/deployable-build.ts';
import { TestFleet } from '../test/support/agent-fleet.ts';
import { spawnTs } from '../test/support/processes.ts';
import { row, type Benchmark, type BenchRow } from './report.ts';

const regions = ['eu', 'us'];

interface RunResult {
  clients: number;
  p50: number;
  p99: number;
  cpuShare: number;
  sqlPerSecond: number;
}

/** Counts every statement the coordinator sends to its database. */
function countStatements(c: TestCoordinator): () => number {
  const db = c.handle.db;
  let count = 0;
  const query = db.query.bind(db);
  const execute = db.execute.bind(db);
  db.query = ((...args: Parameters<typeof query>) => (count++, query(...args))) as typeof db.query;
  db.execute = ((...args: Parameters<typeof execute>) => (count++, execute(...args))) as typeof db.execute;
  return () => count;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

async function runWith(c: TestCoordinator, statements: () => number, clients: number, rounds: number, tag: string): Promise<RunResult> {
  const markers = rounds * 2;
  const child = spawnTs('bench/dashboard-clients.ts', {}, [c.url, c.token, String(clients), String(markers)]);
  try {
    await child.waitFor((e) => e.ready === true, 60_000);
    const madeAt = new Map<string, number>();
    const wallStart = performance.now();
    const cpuStart = process.cpuUsage();
    const sqlStart = statements();
    for (let i = 0; i < rounds; i++) {
      const lock = `bench-${tag}-lock-${i}`;
      madeAt.set(lock, performance.timeOrigin + performance.now());
      expect201(await c.request('POST', '/v1/services/api/lock', { body: { reason: lock } }));
      await sleep(700);
      await c.request('DELETE', '/v1/services/api/lock');
      const build = await deployableBuild(c.handle, 'api', regions);
      const deploy = `bench-${tag}-deploy-${i}`;
      madeAt.set(deploy, performance.timeOrigin + performance.now());
      expect201(await c.request('POST', '/v1/deployments', { body: { build: `b${build.id}`, reason: deploy } }));
      await sleep(700);
    }
    const result = await child.waitFor((e) => e.seen !== undefined, 60_000);
    const wallMs = performance.now() - wallStart;
    const cpu = process.cpuUsage(cpuStart);
    const sql = statements() - sqlStart;
    const latencies: number[] = [];
    for (const [marker, times] of Object.entries(result.seen as Record<string, number[]>)) {
      const at = madeAt.get(marker);
      if (at !== undefined) latencies.push(...times.map((t) => t - at));
    }
    return { clients, p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpuShare: (cpu.user + cpu.system) / 1000 / wallMs, sqlPerSecond: (sql * 1000) / wallMs };
  } finally {
    child.kill('SIGKILL');
    await child.exited;
  }
}

function expect201(reply: { status: number; text: string }): void {
  if (reply.status !== 201) throw new Error(`expected 201, got ${reply.status}: ${reply.text}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const dashboardBenchmark: Benchmark = {
  name: 'dashboard',
  description: '500 dashboards (WebSockets on the fleet feed) vs 1 during deploys: event p99, coordinator CPU, SQL statements/s',
  onlyWhenNamed: true,
  async run({ quick, args }): Promise<BenchRow[]> {
    const many = Number(args?.[0] ?? (quick ? 50 : 500));
    const rounds = quick ? 3 : 8;
    const fleet = await TestFleet.start(regions);
    let c: TestCoordinator | undefined;
    try {
      c = await startTestCoordinator('sqlite', {
        env: { FLEETCAST_NATS_URL: fleet.cluster.urls.hub, FLEETCAST_REGIONS: regions.join(','), FLEETCAST_REPLICATION_CONCURRENCY: '0', FLEETCAST_AUDIT_EVERY: '7d', FLEETCAST_DEPLOY_WAVES: 'canary', ...fleet.keys.coordinatorEnv },
      });
      const reply = await c.request('POST', '/v1/services', { body: serviceBody('api') });
      if (reply.status !== 201) throw new Error(reply.text);
      const statements = countStatements(c);
      const one = await runWith(c, statements, 1, rounds, 'one');
      const lots = await runWith(c, statements, many, rounds, 'many');
      return [
        row('event delivery p50, 1 client', one.p50, 'ms', { higherIsBetter: false }),
        row(`event delivery p50, ${many} clients`, lots.p50, 'ms', { baseline: one.p50, higherIsBetter: false }),
        row('event delivery p99, 1 client', one.p99, 'ms', { higherIsBetter: false }),
        // The feed reads every 500 ms: a change waits up to one round, for 1 client as for 500.
        row(`event delivery p99, ${many} clients`, lots.p99, 'ms', { baseline: one.p99, higherIsBetter: false, target: '<= 1 s', pass: lots.p99 <= 1000 }),
        row('coordinator CPU, 1 client', one.cpuShare * 100, '% of a core', { higherIsBetter: false }),
        row(`coordinator CPU, ${many} clients`, lots.cpuShare * 100, '% of a core', { baseline: one.cpuShare * 100, higherIsBetter: false }),
        row('SQL statements/s, 1 client', one.sqlPerSecond, '/s', { higherIsBetter: false }),
        row(`SQL statements/s, ${many} clients`, lots.sqlPerSecond, '/s', { baseline: one.sqlPerSecond, higherIsBetter: false, target: '<= 1.25x of 1 client', pass: lots.sqlPerSecond <= one.sqlPerSecond * 1.25 }),
      ];
    } finally {
      await c?.stop();
      await fleet.stop();
    }
  },
};
