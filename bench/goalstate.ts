// Goal-state latency, every link TLS: a goal written on the hub → seen, verified, by 300
// watchers spread over 3 regional leaves (each watcher its own connection, as each agent is),
// through fleetcast's GoalWriter (signing every document) and RegionGoalView (verifying it),
// against a bare KV put → watch loop of the same client (@nats-io/transport-node, jetstream, kv
// 3.x) over the very same hub, leaves and mirrors in the same run. Each side is a GoalPath in
// `paths` below, measured in interleaved blocks; one of them runs on a second hub and leaves
// whose users are per-machine nkey identities, each watcher its own agent identity. Plus what
// verifying one goal costs an agent, and the coordinator's status view: the initial load of
// 100,000 agent reports and one summary over them, against a bare KV watch of the same keys.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { decodeGoal, encodeGoal, encodeStatus, GoalWriter, RegionGoalView, RegionStatusView, signGoal, type GoalWatch, type StatusReport } from '../goalstate/index.ts';
import { NatsIdentityRegistry, VerifyingKeyring } from '../trust/index.ts';
import { sampleGoal } from '../test/support/sample-goal.ts';
import { testGoalKeys, type TestGoalKeys } from '../test/support/goal-keys.ts';
import { LocalNatsCluster } from '../ops/nats/local-cluster.ts';
import { ensureLocalTls, type LocalTlsFiles } from '../ops/nats/local-tls.ts';
import { row, type Benchmark, type BenchRow } from './report.ts';

const regions = ['eu', 'us', 'ap'];
const warmupRounds = 3;

interface Latencies {
  p50: number;
  p99: number;
  samples: number;
}

function percentiles(samples: number[]): Latencies {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), samples: sorted.length };
}

/** A bare client of one of the cluster's URLs (a cluster's: every server, comma-separated), over TLS when the cluster has a CA. */
async function rawConnect(url: string, ca: string | undefined): Promise<NatsConnection> {
  const all = url.split(',').map((one) => new URL(one));
  const u = all[0]!;
  return connect({ servers: all.map((one) => `${one.hostname}:${one.port}`), user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password), ...(ca ? { tls: { caFile: ca } } : {}) });
}

/**
 * Runs `iterations` rounds: write build b<i> for every region at once, wait until every watcher
 * has seen it, record each watcher's delay from the start of the writes.
 */
class Rounds {
  private readonly latencies: number[] = [];
  private startedAt = 0;
  private current = -1;
  private seen = 0;
  private allSeen: (() => void) | undefined;

  constructor(private readonly watchers: number) {}

  private recording = false;

  /** Watchers call this with the round number they observed. */
  observe(round: number): void {
    if (round !== this.current) return;
    if (this.recording) this.latencies.push(performance.now() - this.startedAt);
    if (++this.seen === this.watchers) this.allSeen?.();
  }

  /** The first `warmup` rounds are not recorded: connections and JIT settle first. */
  async run(first: number, iterations: number, warmup: number, write: (round: number) => Promise<void>): Promise<void> {
    for (let round = first; round < first + warmup + iterations; round++) {
      this.recording = round >= first + warmup;
      this.current = round;
      this.seen = 0;
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`round ${round}: only ${this.seen} of ${this.watchers} watchers saw the write within 15 s`)), 15_000);
        this.allSeen = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.startedAt = performance.now();
      await write(round);
      await done;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  samples(): number[] {
    return this.latencies;
  }
}

/** One way of getting a goal from the hub to every watcher, measured over `iterations` rounds. */
interface GoalPath {
  name: string;
  /** Its own servers (per-machine identities); the shared cluster otherwise. */
  cluster?: LocalNatsCluster;
  measure(cluster: LocalNatsCluster, perRegion: number, first: number, iterations: number): Promise<number[]>;
}

/**
 * fleetcast: GoalWriter on the hub signing each goal, one RegionGoalView (own connection) per
 * watcher verifying it. `ownKeyrings` false: the watchers of this one process share the agent
 * keyring, as a process shares its keyring, so a document is verified once per process (an agent
 * runs one watch, so in the fleet each machine verifies once, in parallel with the others); true:
 * each watcher verifies its own copy, all 300 on this process's two cores.
 */
async function measureOurs(cluster: LocalNatsCluster, keys: TestGoalKeys, ownKeyrings: boolean, perRegion: number, first: number, iterations: number, creds?: BenchCreds): Promise<number[]> {
  const writer = await GoalWriter.connect({ url: cluster.urls.hub, regions, signingKey: keys.signingKey, keyring: keys.keyring, connect: connectOptions(cluster, creds?.coordinator) });
  const shared = new VerifyingKeyring(keys.publicFile);
  const views: RegionGoalView[] = [];
  const watches: GoalWatch[] = [];
  const rounds = new Rounds(perRegion * regions.length);
  try {
    const revisions: Record<string, number | null> = {};
    for (const region of regions) revisions[region] = (await writer.get('bench', region))?.revision ?? null;
    for (const region of regions) {
      for (let i = 0; i < perRegion; i++) {
        const view = await RegionGoalView.connect({
          url: cluster.urls.agents[region]!,
          region,
          keyring: ownKeyrings ? new VerifyingKeyring(keys.publicFile) : shared,
          connect: connectOptions(cluster, creds?.agent(region, i)),
        });
        views.push(view);
        watches.push(view.watch(['bench'], (update) => rounds.observe(Number(update.goal?.build.slice(1)))));
      }
    }
    await Promise.all(watches.map((w) => w.ready));
    await rounds.run(first, iterations, warmupRounds, async (round) => {
      await Promise.all(
        regions.map(async (region) => {
          revisions[region] = (await writer.put(sampleGoal('bench', region, round), { expectedRevision: revisions[region]! })).revision;
        }),
      );
    });
    return rounds.samples();
  } finally {
    await Promise.all(views.map((v) => v.close()));
    await writer.close();
  }
}

/** fleetcast's connection options for a cluster: its CA (TLS), and a creds file (identities). */
function connectOptions(cluster: LocalNatsCluster, credsFile: string | undefined): { caFile?: string; credsFile?: string } {
  return { ...(cluster.ca ? { caFile: cluster.ca } : {}), ...(credsFile ? { credsFile } : {}) };
}

/** Creds files of a cluster with per-machine identities: the coordinator's, and each watcher's own agent identity. */
interface BenchCreds {
  coordinator: string;
  agent(region: string, i: number): string;
}

/** A second hub and leaves whose users are a registry's identities: a coordinator and `perRegion` agents per region. */
async function identityCluster(dir: string, perRegion: number, tls: LocalTlsFiles): Promise<{ cluster: LocalNatsCluster; creds: BenchCreds }> {
  const registry = new NatsIdentityRegistry(dir);
  const coordinator = registry.issue({ role: 'coordinator' }).credsFile;
  const agents = new Map<string, string>();
  for (const region of regions) {
    for (let i = 0; i < perRegion; i++) agents.set(`${region}-${i}`, registry.issue({ role: 'agent', region, machine: `${region}-${i}` }).credsFile);
  }
  const cluster = await LocalNatsCluster.start({ regions, identities: registry, tls });
  return { cluster, creds: { coordinator, agent: (region, i) => agents.get(`${region}-${i}`)! } };
}

/** Bare client: kv.put on the hub, kv.watch on each leaf's mirror, JSON.parse of the value. */
async function measureRaw(cluster: LocalNatsCluster, perRegion: number, first: number, iterations: number): Promise<number[]> {
  const hub = await rawConnect(cluster.urls.hub, cluster.ca);
  const clients: NatsConnection[] = [];
  const rounds = new Rounds(perRegion * regions.length);
  try {
    const goal: KV = await new Kvm(hub).open('goal');
    for (const region of regions) {
      for (let i = 0; i < perRegion; i++) {
        const nc = await rawConnect(cluster.urls.agents[region]!, cluster.ca);
        clients.push(nc);
        const mirror = await new Kvm(nc).open('goal', { streamName: `KV_goal-${region}`, allow_direct: true });
        // Its consumer exists once watch() resolves: every later write reaches it (the warm-up
        // rounds absorb the last value of the previous block, which observe() ignores anyway).
        const iterator = await mirror.watch({ key: `raw.${region}` });
        void (async () => {
          for await (const entry of iterator) rounds.observe(Number(entry.json<{ build: string }>().build.slice(1)));
        })();
      }
    }
    await rounds.run(first, iterations, warmupRounds, async (round) => {
      await Promise.all(regions.map((region) => goal.put(`raw.${region}`, JSON.stringify(sampleGoal('raw', region, round)))));
    });
    return rounds.samples();
  } finally {
    await Promise.all(clients.map((nc) => nc.close()));
    await hub.close();
  }
}

/** Writes `count` reports into status-eu as agents would (pipelined), returns writes/s. */
async function fillStatus(cluster: LocalNatsCluster, count: number): Promise<number> {
  const nc = await rawConnect(cluster.urls.agents.eu!, cluster.ca);
  try {
    const js = jetstream(nc);
    const started = performance.now();
    const states = ['running', 'running', 'running', 'downloading', 'failed', 'idle'] as const;
    for (let done = 0; done < count; ) {
      const batch: Promise<unknown>[] = [];
      for (const end = Math.min(count, done + 2_000); done < end; done++) {
        const state = states[done % states.length]!;
        const report: StatusReport = {
          v: 1,
          digest: state === 'running' ? '7'.repeat(64) : null,
          seq: 7,
          refusal: null,
          refusals: 0,
          cached: [],
          machine: `m${done}`,
          service: done % 10 === 0 ? 'web' : 'api',
          build: state === 'idle' ? null : 'b7',
          state,
          bytes: state === 'downloading' ? 1_000 : 0,
          total: state === 'downloading' ? 10_000 : 0,
          peers: 4,
          error: state === 'failed' ? 'digest mismatch' : null,
          at: new Date().toISOString(),
        };
        batch.push(js.publish(`$KV.status-eu.${report.service}.${report.machine}`, encodeStatus(report)));
      }
      await Promise.all(batch);
    }
    return count / ((performance.now() - started) / 1000);
  } finally {
    await nc.close();
  }
}

async function measureStatus(cluster: LocalNatsCluster, count: number): Promise<BenchRow[]> {
  const writesPerSecond = await fillStatus(cluster, count);

  // Bare: a KV watch of every key through the hub until the initial values are in (no parsing).
  const hub = await rawConnect(cluster.urls.hub, cluster.ca);
  let rawMs: number;
  try {
    const kv = await new Kvm(jetstream(hub, { domain: 'eu' })).open('status-eu');
    const started = performance.now();
    let received = 0;
    // The client marks the last of the values that existed when the watch began as isUpdate.
    const iterator = await kv.watch();
    for await (const entry of iterator) {
      received += entry.length > 0 ? 1 : 0;
      if (entry.isUpdate) break;
    }
    rawMs = performance.now() - started;
    if (received !== count) throw new Error(`bare watch loaded ${received} of ${count} reports`);
  } finally {
    await hub.close();
  }

  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const view = await RegionStatusView.connect({ url: cluster.urls.hub, region: 'eu', connect: connectOptions(cluster, undefined) });
  try {
    await view.ready;
    const loadMs = performance.now() - started;
    if (view.size !== count) throw new Error(`status view loaded ${view.size} of ${count} reports`);
    const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
    const summaryStarted = performance.now();
    const summary = view.summary('api', { build: 'b7', digest: '7'.repeat(64), seq: 7 });
    const summaryMs = performance.now() - summaryStarted;
    if (summary.machines !== count - count / 10) throw new Error(`summary counted ${summary.machines} machines`);
    const label = count.toLocaleString('en');
    return [
      row(`agent reports written (pipelined, 1 client)`, writesPerSecond, 'reports/s'),
      row(`status view initial load, ${label} reports via hub`, loadMs, 'ms', {
        baseline: rawMs,
        higherIsBetter: false,
        target: count >= 100_000 ? '<= 10 s' : null,
        pass: count >= 100_000 ? loadMs <= 10_000 : null,
      }),
      row(`status view memory, ${label} reports`, heapMb, 'MB'),
      row(`status summary of one service, ${(count - count / 10).toLocaleString('en')} machines`, summaryMs, 'ms'),
    ];
  } finally {
    await view.close();
  }
}

/**
 * What verifying one goal costs an agent: decodeGoal (JSON, signature, schema, placement) of
 * distinct signed documents, each timed alone — wall clock, and the process's CPU time (which a
 * loaded machine's scheduler does not inflate).
 */
function measureVerify(keys: TestGoalKeys, count: number): BenchRow[] {
  const documents = Array.from({ length: 1_000 }, (_, i) => encodeGoal(signGoal(sampleGoal('api', 'eu', i + 1, { runCommand: './api --port 8080' }), 'goal', 1_800_000_000_000 + i, keys.key)));
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < count; i++) {
    // A keyring per document: nothing remembered, every verification is a real one.
    const keyring = new VerifyingKeyring(keys.publicKey);
    const value = documents[i % documents.length]!;
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    decodeGoal(value, 'api.eu', 1, { keyring });
    wall.push(performance.now() - started);
    const used = process.cpuUsage(cpuStart);
    cpu.push((used.user + used.system) / 1000);
  }
  const w = percentiles(wall.slice(count / 10));
  const c = percentiles(cpu.slice(count / 10));
  return [
    row('agent: verify a goal p50', w.p50, 'ms'),
    row('agent: verify a goal p99', w.p99, 'ms', { higherIsBetter: false, target: '<= 1 ms', pass: w.p99 <= 1 }),
    row('agent: verify a goal, CPU time p99', c.p99, 'ms'),
  ];
}

export const goalstateBenchmark: Benchmark = {
  name: 'goalstate',
  description: 'goal write → 300 watchers on 3 regional leaves (p50/p99) vs bare KV of the same client; 100k status reports load',
  async run({ quick }) {
    const perRegion = quick ? 10 : 100;
    const iterations = quick ? 20 : 200;
    const statusReports = quick ? 10_000 : 100_000;
    // Both clusters run TLS on every link (one local CA): the raw baseline is raw NATS over TLS.
    const identityDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-bench-identities-'));
    const tls = ensureLocalTls(path.join(identityDir, 'tls'));
    const cluster = await LocalNatsCluster.start({ regions, tls });
    const keys = testGoalKeys();
    const identities = await identityCluster(identityDir, perRegion, tls);
    try {
      for (const [on, credsFile] of [[cluster, undefined], [identities.cluster, identities.creds.coordinator]] as const) {
        const writer = await GoalWriter.connect({ url: on.urls.hub, regions, connect: connectOptions(on, credsFile) });
        await writer.ensureBuckets();
        await writer.close();
      }
      const paths: GoalPath[] = [
        { name: 'raw', measure: (c, n, first, count) => measureRaw(c, n, first, count) },
        { name: 'signed', measure: (c, n, first, count) => measureOurs(c, keys, false, n, first, count) },
        { name: 'signed, each watcher verifying', measure: (c, n, first, count) => measureOurs(c, keys, true, n, first, count) },
        { name: 'signed, per-machine identities', cluster: identities.cluster, measure: (c, n, first, count) => measureOurs(c, keys, false, n, first, count, identities.creds) },
      ];
      // Interleaved blocks, so drift (page cache, JIT, GC, the other processes of the machine)
      // hits every path alike.
      const blocks = 4;
      const perBlock = iterations / blocks;
      const samples = new Map<string, number[]>(paths.map((p) => [p.name, []]));
      for (let block = 0; block < blocks; block++) {
        const first = 1 + block * (perBlock + warmupRounds);
        for (const goalPath of paths) samples.get(goalPath.name)!.push(...(await goalPath.measure(goalPath.cluster ?? cluster, perRegion, first, perBlock)));
      }
      const raw = percentiles(samples.get('raw')!);
      const ours = percentiles(samples.get('signed')!);
      const each = percentiles(samples.get('signed, each watcher verifying')!);
      const identified = percentiles(samples.get('signed, per-machine identities')!);
      const watchers = perRegion * regions.length;
      return [
        row(`signed goal write → ${watchers} watchers verified p50`, ours.p50, 'ms', { baseline: raw.p50, higherIsBetter: false }),
        row(`signed goal write → ${watchers} watchers verified p99`, ours.p99, 'ms', {
          baseline: raw.p99,
          higherIsBetter: false,
          target: '<= 2 x raw p99',
          pass: ours.p99 <= 2 * raw.p99,
        }),
        row(`same, each of the ${watchers} watchers verifying its own copy on this machine, p99`, each.p99, 'ms', { baseline: raw.p99, higherIsBetter: false }),
        row(`signed goal write → ${watchers} watchers verified, each watcher its own NATS identity (nkey, per-machine permissions), p99`, identified.p99, 'ms', {
          baseline: raw.p99,
          higherIsBetter: false,
          target: '<= 2 x raw p99',
          pass: identified.p99 <= 2 * raw.p99,
        }),
        row('same, p50', identified.p50, 'ms', { baseline: raw.p50, higherIsBetter: false }),
        row('observations (each path)', ours.samples, 'samples', { baseline: raw.samples }),
        ...measureVerify(keys, quick ? 2_000 : 20_000),
        ...(await measureStatus(cluster, statusReports)),
      ];
    } finally {
      await cluster.stop();
      await identities.cluster.stop();
      keys.remove();
      fs.rmSync(identityDir, { recursive: true, force: true });
    }
  },
};

/**
 * The same goal path on clustered NATS (what `fleetcast up --ha` runs): a 3-server hub and 3 leaf
 * servers per region, `goal`, every mirror and status bucket with 3 copies, each watcher given
 * its region's server list. The raw baseline is a bare KV put → watch on the very same cluster.
 */
export const goalstateHaBenchmark: Benchmark = {
  name: 'goalstate-ha',
  description: 'goalstate on clustered NATS (3 hub servers, 3 leaf servers per region, R3) vs bare KV on the same cluster',
  onlyWhenNamed: true,
  async run({ quick }) {
    const perRegion = quick ? 10 : 100;
    const iterations = quick ? 20 : 200;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-bench-ha-'));
    const tls = ensureLocalTls(path.join(dir, 'tls'));
    const cluster = await LocalNatsCluster.start({ regions, tls, nodes: 3 });
    const keys = testGoalKeys();
    try {
      const writer = await GoalWriter.connect({ url: cluster.urls.hub, regions, replicas: 3, connect: connectOptions(cluster, undefined) });
      await writer.ensureBuckets();
      await writer.close();
      const paths: GoalPath[] = [
        { name: 'raw', measure: (c, n, first, count) => measureRaw(c, n, first, count) },
        { name: 'signed', measure: (c, n, first, count) => measureOurs(c, keys, false, n, first, count) },
      ];
      const blocks = 4;
      const perBlock = iterations / blocks;
      const samples = new Map<string, number[]>(paths.map((p) => [p.name, []]));
      for (let block = 0; block < blocks; block++) {
        const first = 1 + block * (perBlock + warmupRounds);
        for (const goalPath of paths) samples.get(goalPath.name)!.push(...(await goalPath.measure(cluster, perRegion, first, perBlock)));
      }
      const raw = percentiles(samples.get('raw')!);
      const ours = percentiles(samples.get('signed')!);
      const watchers = perRegion * regions.length;
      return [
        row(`clustered (3 + 3 per region, R3): signed goal write → ${watchers} watchers verified p50`, ours.p50, 'ms', { baseline: raw.p50, higherIsBetter: false }),
        row(`clustered (3 + 3 per region, R3): signed goal write → ${watchers} watchers verified p99`, ours.p99, 'ms', {
          baseline: raw.p99,
          higherIsBetter: false,
          target: '<= 2 x raw p99',
          pass: ours.p99 <= 2 * raw.p99,
        }),
        row('observations (each path)', ours.samples, 'samples', { baseline: raw.samples }),
      ];
    } finally {
      await cluster.stop();
      keys.remove();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};
