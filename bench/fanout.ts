// Goal fan-out at region scale (issue 21): how many agents one region server holds, with
// lightweight simulated agents (no full agents: each is one subscription or one KV watch plus
// a status key, spread over real NATS connections of this process) against a nats-server the
// benchmark starts (own port, own store dir). Two forms of following the region's goal, in the
// same run, one after the other on a fresh server each:
//   naive     — one kv.watch() (a JetStream ordered consumer) per agent, as agents did;
//   republish — the goal stream republishes each write to core-NATS subjects (stream
//               `republish`); each agent holds one plain subscription and reads its key with a
//               direct get at start (and, in the agent, after a gap in the sequence).
// Per size: server RSS and idle CPU per agent, server CPU to set the agents up, goal write →
// every agent saw it (p50/p99), and the server CPU of every agent writing its status key every
// FLEETCAST_STATUS_INTERVAL. Then an extrapolation to 100,000 agents per region and 10 regions.
//   npm run bench -- fanout [SIZES...]     e.g. npm run bench -- fanout 10000 20000 50000
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { QueuedIterator } from '@nats-io/nats-core';
import type { KvWatchEntry } from '@nats-io/kv';
import { freePort } from '../ops/nats/free-port.ts';
import { NatsServerProcess } from '../ops/nats/nats-server-process.ts';
import { processCpuMs } from './proc-stats.ts';
import { row, type Benchmark, type BenchRow } from './report.ts';

const fullSizes = [10_000, 20_000, 50_000];
const quickSizes = [1_000, 2_000];
/**
 * Agents share connections: the server and this process may each hold at most `ulimit -n`
 * (20,000 here) descriptors, so a simulated agent is a subscription (or watch) on one of these
 * connections, as in the measurements. Per-connection cost is measured separately.
 */
const maxConnections = 2_000;
/** Consumer creations or direct gets in flight at once while agents start. */
const setupConcurrency = 200;
const rounds = 5;
const warmupRounds = 1;
/** FLEETCAST_STATUS_INTERVAL's default: each agent re-reports this often. */
const statusIntervalS = 30;
const statusWindowS = 10;
const idleWindowS = 5;
/** About the size of a signed goal document. */
const goalPadding = 'x'.repeat(600);
const region = 'eu';
/** JetStream requests wait this long: a server busy with 50,000 consumers answers slowly, and that is measured, not an error. */
const jsTimeoutMs = 60_000;
const republishPrefix = 'fleetcast.goal';

type Form = 'naive' | 'republish';

interface FormResult {
  form: Form;
  agents: number;
  connections: number;
  rssMiB: number;
  idleCores: number;
  setupCpuMs: number;
  setupWallMs: number;
  p50: number;
  p99: number;
  statusCores: number;
  statusWritesPerS: number;
}

class TestServer {
  private constructor(
    readonly proc: NatsServerProcess,
    readonly url: string,
    private readonly dir: string,
  ) {}

  static async start(): Promise<TestServer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-fanout-'));
    const port = await freePort();
    const monitorPort = await freePort();
    const configFile = path.join(dir, 'server.conf');
    fs.writeFileSync(configFile, `listen: 127.0.0.1:${port}\nhttp: 127.0.0.1:${monitorPort}\nmax_connections: 100000\njetstream { store_dir: "${path.join(dir, 'store')}" }\n`);
    const proc = new NatsServerProcess({ name: 'fanout', configFile, logFile: path.join(dir, 'server.log'), monitorUrl: `http://127.0.0.1:${monitorPort}` });
    await proc.start();
    return new TestServer(proc, `127.0.0.1:${port}`, dir);
  }

  rssMiB(): number {
    return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${this.proc.pid}/status`, 'utf8'))![1]) / 1024;
  }

  cpuMs(): number {
    return processCpuMs(this.proc.pid!);
  }

  async stop(): Promise<void> {
    await this.proc.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs `work` for every index with at most `limit` in flight. */
async function inParallel(count: number, limit: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Tracks, per round, when each agent saw the goal of that round. */
class Propagation {
  private round = -1;
  private startedAt = 0;
  private seen = 0;
  private done: (() => void) | undefined;
  readonly latencies: number[] = [];
  private recording = false;

  constructor(private readonly agents: number) {}

  observe(data: Uint8Array): void {
    const round = Number(/"round":(\d+)/.exec(new TextDecoder().decode(data.subarray(0, 40)))?.[1] ?? -1);
    if (round !== this.round) return;
    if (this.recording) this.latencies.push(performance.now() - this.startedAt);
    if (++this.seen === this.agents) this.done?.();
  }

  async run(kv: KV): Promise<void> {
    for (let r = 0; r < warmupRounds + rounds; r++) {
      this.round = r + 1;
      this.seen = 0;
      this.recording = r >= warmupRounds;
      const all = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`round ${r}: ${this.seen} of ${this.agents} agents saw the goal within 120 s`)), 120_000);
        this.done = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.startedAt = performance.now();
      await kv.put(`api.${region}`, goalValue(this.round));
      await all;
      await sleep(200);
    }
  }
}

function goalValue(round: number): string {
  return `{"round":${round},"build":"b${round}","pad":"${goalPadding}"}`;
}

async function measureForm(form: Form, agents: number): Promise<FormResult> {
  const server = await TestServer.start();
  const connections: NatsConnection[] = [];
  const watches: QueuedIterator<KvWatchEntry>[] = [];
  const subs: Subscription[] = [];
  try {
    const admin = await connect({ servers: server.url, name: 'fanout-admin' });
    connections.push(admin);
    const kvm = new Kvm(jetstream(admin, { timeout: jsTimeoutMs }));
    const goal = await kvm.create('goal', {
      history: 10,
      ...(form === 'republish' ? { republish: { src: '$KV.goal.>', dest: `${republishPrefix}.>` } } : {}),
    });
    const status = await kvm.create(`status-${region}`, { history: 1, maxValueSize: 4096 });
    await goal.put(`api.${region}`, goalValue(0));
    const connectionCount = Math.min(agents, maxConnections);
    await inParallel(connectionCount, 50, async () => {
      connections.push(await connect({ servers: server.url, name: 'fanout-agents', maxReconnectAttempts: 0 }));
    });
    const agentConnection = (i: number) => connections[1 + (i % connectionCount)]!;
    const bucketOf = new Map<NatsConnection, KV>();
    const statusOf = new Map<NatsConnection, KV>();
    for (const nc of connections.slice(1)) {
      const m = new Kvm(jetstream(nc, { timeout: jsTimeoutMs }));
      bucketOf.set(nc, await m.open('goal'));
      statusOf.set(nc, await m.open(`status-${region}`));
    }
    const propagation = new Propagation(agents);
    const cpu0 = server.cpuMs();
    const t0 = performance.now();
    await inParallel(agents, setupConcurrency, async (i) => {
      const nc = agentConnection(i);
      const kv = bucketOf.get(nc)!;
      if (form === 'naive') {
        const watch = await kv.watch({ key: `*.${region}` });
        watches.push(watch);
        void (async () => {
          for await (const entry of watch) if (entry.operation === 'PUT') propagation.observe(entry.value);
        })();
      } else {
        // Subscribe first, then read: a write between the two is seen by one or the other.
        subs.push(nc.subscribe(`${republishPrefix}.*.${region}`, { callback: (_err, msg) => propagation.observe(msg.data) }));
        const entry = await kv.get(`api.${region}`);
        if (!entry) throw new Error('the direct get found no goal');
      }
    });
    for (const nc of connections) await nc.flush();
    const setupWallMs = performance.now() - t0;
    const setupCpuMs = server.cpuMs() - cpu0;
    await sleep(2_000);
    const idle0 = server.cpuMs();
    await sleep(idleWindowS * 1000);
    const idleCores = (server.cpuMs() - idle0) / (idleWindowS * 1000);
    const rssMiB = server.rssMiB();
    await propagation.run(goal);
    const sorted = [...propagation.latencies].sort((a, b) => a - b);
    // Status: every agent writes its key every statusIntervalS; measured over a window.
    const perSecond = agents / statusIntervalS;
    const writes = Math.round(perSecond * statusWindowS);
    const report = `{"state":"CONVERGED","build":"b1","pad":"${'y'.repeat(200)}"}`;
    const s0 = server.cpuMs();
    const w0 = performance.now();
    let issued = 0;
    await inParallel(writes, 100, async () => {
      const i = issued++;
      // Paced, as agents write on their own timers, not in one burst.
      const due = w0 + (i / perSecond) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      await statusOf.get(agentConnection(i % agents))!.put(`api.m${i % agents}`, report);
    });
    const statusWallS = (performance.now() - w0) / 1000;
    const statusCores = (server.cpuMs() - s0) / 1000 / statusWallS;
    void status;
    return {
      form, agents, connections: connectionCount, rssMiB, idleCores, setupCpuMs, setupWallMs,
      p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), statusCores, statusWritesPerS: writes / statusWallS,
    };
  } finally {
    for (const w of watches) w.stop();
    for (const s of subs) s.unsubscribe();
    await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
    await server.stop();
  }
}

/** What an idle server with only the benchmark's connections (no agents) uses, to subtract. */
async function measureBase(connectionCount: number): Promise<{ rssMiB: number }> {
  const server = await TestServer.start();
  const connections: NatsConnection[] = [];
  try {
    await inParallel(connectionCount, 50, async () => {
      connections.push(await connect({ servers: server.url }));
    });
    await sleep(1_000);
    return { rssMiB: server.rssMiB() };
  } finally {
    await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
    await server.stop();
  }
}

export interface FanoutExtrapolation {
  /** Agents one region server can hold within the memory and CPU budget below. */
  agentsPerServer: number;
  serversPerRegion: number;
  serversFor10Regions: number;
}

/** A region server's budget: 4 GiB for NATS and at most half a core busy with agents idle and reporting. */
const serverBudget = { rssMiB: 4096, cores: 0.5 };

export function extrapolate(perAgent: { rssKiB: number; idleCores: number; statusCores: number }, agentsPerRegion = 100_000): FanoutExtrapolation {
  const byMemory = (serverBudget.rssMiB * 1024) / Math.max(perAgent.rssKiB, 1e-9);
  const byCpu = serverBudget.cores / Math.max(perAgent.idleCores + perAgent.statusCores, 1e-12);
  const agentsPerServer = Math.floor(Math.min(byMemory, byCpu));
  // Three at least: a region is a cluster of leaf nodes that survives losing one.
  const serversPerRegion = Math.max(3, Math.ceil(agentsPerRegion / agentsPerServer));
  return { agentsPerServer, serversPerRegion, serversFor10Regions: 10 * serversPerRegion };
}

export const fanoutBenchmark: Benchmark = {
  name: 'fanout',
  description: 'goal fan-out per region server: one KV watch per agent vs republish + core subscription (10k/20k/50k simulated agents)',
  async run({ quick, args }) {
    const sizes = args && args.length > 0 ? args.map(Number) : quick ? quickSizes : fullSizes;
    const rows: BenchRow[] = [];
    const results: FormResult[] = [];
    const baseConnections = Math.min(Math.max(...sizes), maxConnections);
    const bare = await measureBase(0);
    const base = await measureBase(baseConnections);
    // Real agents each hold a connection; here they share them, so a connection's cost is added back.
    const perConnectionKiB = ((base.rssMiB - bare.rssMiB) * 1024) / baseConnections;
    for (const agents of sizes) {
      // The proposed form first: at the largest sizes the naive one may not finish at all.
      for (const form of ['republish', 'naive'] as const) {
        try {
          const r = await measureForm(form, agents);
          results.push(r);
          console.error(`fanout ${form} ${agents}: ${JSON.stringify(r)}`);
        } catch (err) {
          console.error(`fanout ${form} ${agents}: did not complete:`, err);
          rows.push(row(`${agents} agents: ${form} did not complete (${err instanceof Error ? err.message : String(err)})`, 0, '-', { target: 'completes', pass: false }));
        }
      }
      const naive = results.find((r) => r.form === 'naive' && r.agents === agents);
      const rep = results.find((r) => r.form === 'republish' && r.agents === agents);
      if (!naive || !rep) continue;
      const n = `${agents} agents / ${rep.connections} conns`;
      rows.push(row(`${n}: server RSS, republish (baseline: one KV watch each)`, rep.rssMiB, 'MiB', { baseline: naive.rssMiB, higherIsBetter: false }));
      rows.push(row(`${n}: server idle CPU, republish`, rep.idleCores, 'cores', { baseline: naive.idleCores, higherIsBetter: false }));
      rows.push(row(`${n}: server set-up CPU, republish`, rep.setupCpuMs / 1000, 's', { baseline: naive.setupCpuMs / 1000, higherIsBetter: false }));
      rows.push(row(`${n}: set-up wall, republish`, rep.setupWallMs / 1000, 's', { baseline: naive.setupWallMs / 1000, higherIsBetter: false }));
      rows.push(row(`${n}: goal put -> agent saw it p50, republish`, rep.p50, 'ms', { baseline: naive.p50, higherIsBetter: false }));
      rows.push(row(`${n}: goal put -> agent saw it p99, republish`, rep.p99, 'ms', { baseline: naive.p99, higherIsBetter: false, target: '<= naive p99', pass: rep.p99 <= naive.p99 }));
      rows.push(row(`${n}: status writes every ${statusIntervalS}s (${Math.round(rep.statusWritesPerS)}/s): server CPU`, rep.statusCores, 'cores', { baseline: naive.statusCores }));
    }
    // Per agent, from the largest size (fixed costs matter least there), above the bare server.
    const complete = sizes.filter((n) => results.filter((r) => r.agents === n).length === 2);
    if (complete.length === 0) return rows;
    const largest = Math.max(...complete);
    const naive = results.find((r) => r.form === 'naive' && r.agents === largest)!;
    const rep = results.find((r) => r.form === 'republish' && r.agents === largest)!;
    const perAgent = (r: FormResult) => ({
      rssKiB: ((r.rssMiB - base.rssMiB) * 1024) / r.agents + perConnectionKiB,
      idleCores: r.idleCores / r.agents,
      statusCores: r.statusCores / r.agents,
      setupCpuMs: r.setupCpuMs / r.agents,
    });
    const pn = perAgent(naive);
    const pr = perAgent(rep);
    rows.push(row(`per connection (each agent holds one): server memory`, perConnectionKiB, 'KiB'));
    rows.push(row(`per agent incl. its connection: server memory, republish`, pr.rssKiB, 'KiB', { baseline: pn.rssKiB, higherIsBetter: false }));
    rows.push(row(`per agent: server set-up CPU, republish`, pr.setupCpuMs, 'ms', { baseline: pn.setupCpuMs, higherIsBetter: false }));
    rows.push(row(`per agent: server idle CPU, republish`, pr.idleCores * 1e6, 'µcores', { baseline: pn.idleCores * 1e6, higherIsBetter: false }));
    rows.push(row(`per agent: status writes every ${statusIntervalS}s, server CPU`, pr.statusCores * 1e6, 'µcores', { baseline: pn.statusCores * 1e6 }));
    const en = extrapolate(pn);
    const er = extrapolate(pr);
    rows.push(row(`100,000 agents/region: agents one server holds (${serverBudget.rssMiB} MiB, ${serverBudget.cores} core), republish`, er.agentsPerServer, 'agents', { baseline: en.agentsPerServer }));
    rows.push(row(`100,000 agents/region: servers per region, republish (min 3 for HA)`, er.serversPerRegion, 'servers', { baseline: en.serversPerRegion, higherIsBetter: false }));
    rows.push(row(`10 regions: region servers, republish`, er.serversFor10Regions, 'servers', { baseline: en.serversFor10Regions, higherIsBetter: false }));
    rows.push(row(`100,000 agents: server CPU to set them all up after a restart, republish`, (pr.setupCpuMs * 100_000) / 1000, 's', { baseline: (pn.setupCpuMs * 100_000) / 1000, higherIsBetter: false }));
    rows.push(row(`per-agent figures from ${largest} agents; bare server with ${baseConnections} connections (subtracted): RSS`, base.rssMiB, 'MiB', { baseline: bare.rssMiB }));
    return rows;
  },
};
