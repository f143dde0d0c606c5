import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FsBlobStore, regionBucketName, type GetOptions } from '../../blobstore/index.ts';
import { loadAgentConfig, runAgent, type AgentHandle, type AgentOverrides } from '../../edge-agent/index.ts';
import { isFleetcastError } from '../../errors/index.ts';
import { storeArtifact, type TestArtifact } from './agent-artifacts.ts';
import { GoalWriter, RegionStatusView, type GoalContent, type GoalRevision, type GoalTarget, type StatusReport } from '../../goalstate/index.ts';
import { testGoalKeys, type TestGoalKeys } from './goal-keys.ts';
import { eventually } from './eventually.ts';
import { createLogger, silentLogger, type Logger } from '../../logging/index.ts';
import { TestNatsCluster } from './nats-cluster.ts';

/** Fast reconnects, so leaf restarts take a second, not five. */
export const fastConnect = { maxReconnectDelayMs: 300, timeoutMs: 2_000 };

/**
 * The shell script tests ship as a build: it records each start (build, machine, pid) in
 * `<service dir>/runs.log` and then sleeps until stopped. sh reads a script as it goes, so the
 * random bytes after the `exec` line are never parsed: the file that runs is the artifact.
 */
export const serviceScript = '#!/bin/sh\necho "$FLEETCAST_BUILD_ID $FLEETCAST_MACHINE $$" >> ../../runs.log\nexec sleep 600\n';

export interface TestAgent {
  region: string;
  machine: string;
  handle: AgentHandle;
  dir: string;
  /** Reads of the regional bucket, by object name (range reads included). */
  reads: { name: string; options: GetOptions | undefined }[];
  serviceDir(service: string): string;
  /** The lines of `runs.log`: `{ build, machine, pid }` per start. */
  runs(service: string): { build: string; machine: string; pid: number }[];
  current(service: string): string | null;
  /** Stops the agent and the services it runs. */
  stop(): Promise<void>;
  /** Stops the agent only, as SIGTERM does: its services keep running for the next agent. */
  stopAgentOnly(): Promise<void>;
}

/**
 * A private NATS hub with one leaf per region, a goal writer on the hub, regional buckets in a
 * temporary data dir, the coordinator's status view of each region, and agents run in this
 * process on their own agent dirs and NATS connections. stop() stops every agent (and the
 * services they run) and removes everything.
 */
export class TestFleet {
  private readonly agents = new Set<TestAgent>();
  private readonly statusViews = new Map<string, RegionStatusView>();

  private constructor(
    readonly cluster: TestNatsCluster,
    readonly writer: GoalWriter,
    readonly dataDir: string,
    readonly regions: string[],
    /** The coordinator's goal-signing key (the writer signs with it) and the public key file agents trust. */
    readonly keys: TestGoalKeys,
  ) {}

  static async start(regions: string[]): Promise<TestFleet> {
    const cluster = await TestNatsCluster.start(regions);
    try {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-agents-'));
      const keys = testGoalKeys(path.join(dataDir, 'keys'));
      const writer = await GoalWriter.connect({ url: cluster.urls.hub, regions, connect: fastConnect, signingKey: keys.signingKey, keyring: keys.keyring });
      await writer.ensureBuckets();
      return new TestFleet(cluster, writer, dataDir, regions, keys);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  /**
   * What a test coordinator of this fleet needs: its hub, regions and goal-signing key, no
   * replication (the tests put builds in the buckets) and no audit export.
   */
  coordinatorEnv(): Record<string, string> {
    return {
      FLEETCAST_NATS_URL: this.cluster.urls.hub,
      FLEETCAST_REGIONS: this.regions.join(','),
      FLEETCAST_REPLICATION_CONCURRENCY: '0',
      FLEETCAST_AUDIT_EVERY: '7d',
      ...this.keys.coordinatorEnv,
    };
  }

  bucket(region: string): Promise<FsBlobStore> {
    return FsBlobStore.open({ root: path.join(this.dataDir, 'buckets'), bucket: regionBucketName(region), fsync: false });
  }

  /** Build `b<n>` of `service` (a runnable script plus random bytes), in the bucket of every region given. */
  async artifact(service: string, n: number, size: number, regions = this.regions): Promise<TestArtifact> {
    const stores = await Promise.all(regions.map((r) => this.bucket(r)));
    return storeArtifact(stores, service, n, size, serviceScript);
  }

  /** Signs and writes the goal on the hub, whatever the key holds now. */
  async deploy(goal: GoalContent): Promise<GoalRevision> {
    let revision: number | null;
    try {
      revision = (await this.writer.get(goal.service, goal.region))?.revision ?? null;
    } catch (err) {
      // A malformed or unsigned goal (a test wrote one) still has a revision to replace.
      if (!isFleetcastError(err, 'GOAL_INVALID') && !isFleetcastError(err, 'GOAL_SIGNATURE_INVALID')) throw err;
      revision = Number(err.details.revision);
    }
    return this.writer.put(goal, { expectedRevision: revision });
  }

  /** What a machine must report to run the region's current goal (as the coordinator judges it). */
  async target(service: string, region: string): Promise<GoalTarget> {
    const goal = (await this.writer.get(service, region))?.goal;
    if (!goal) throw new Error(`no goal of ${service} in ${region}`);
    return { build: goal.build, digest: goal.digest, seq: goal.seq };
  }

  async statusView(region: string): Promise<RegionStatusView> {
    let view = this.statusViews.get(region);
    if (!view) {
      view = await RegionStatusView.connect({ url: this.cluster.urls.hub, region, connect: fastConnect, silentAfterMs: 60_000 });
      await view.ready;
      this.statusViews.set(region, view);
    }
    return view;
  }

  /** Waits until the region's view holds a report of the machine matching `match`. */
  async reportOf(region: string, service: string, machine: string, match: (report: StatusReport) => boolean, timeoutMs = 20_000): Promise<StatusReport> {
    const view = await this.statusView(region);
    return eventually(
      () => {
        const report = view.report(service, machine);
        return report && match(report) ? report : undefined;
      },
      timeoutMs,
      `a status report of ${service} on ${machine} in ${region} (last: ${JSON.stringify(view.report(service, machine))})`,
    );
  }

  async startAgent(region: string, machine: string, options: { env?: Record<string, string>; overrides?: AgentOverrides; dir?: string } = {}): Promise<TestAgent> {
    const dir = options.dir ?? path.join(this.dataDir, 'agents', `${region}-${machine}`);
    const config = loadAgentConfig({
      env: {
        FLEETCAST_DATA_DIR: this.dataDir,
        FLEETCAST_REGION: region,
        FLEETCAST_MACHINE: machine,
        FLEETCAST_NATS_URL: this.cluster.urls.agents[region]!,
        FLEETCAST_GOAL_PUBLIC_KEYS: this.keys.publicFile,
        FLEETCAST_AGENT_DIR: dir,
        FLEETCAST_AGENT_HEALTH_GRACE: '300ms',
        FLEETCAST_AGENT_HEALTH_TIMEOUT: '3s',
        FLEETCAST_AGENT_BUCKET_RATE: '0',
        FLEETCAST_STATUS_INTERVAL: '1s',
        // The lifecycle tests fetch from the bucket; P2P distribution has tests of its own.
        FLEETCAST_AGENT_P2P: 'false',
        ...options.env,
      },
    });
    const store = await this.bucket(region);
    const reads: TestAgent['reads'] = [];
    const get = store.get.bind(store);
    store.get = (name, getOptions) => {
      reads.push({ name, options: getOptions });
      return get(name, getOptions);
    };
    const handle = await runAgent(config, {
      logger: testLogger({ region, machine }),
      store,
      connect: fastConnect,
      supervisor: { stopGraceMs: 2_000, restartMinMs: 100, restartMaxMs: 1_000, adoptPollMs: 100 },
      retry: { minMs: 300, maxMs: 2_000 },
      healthPollMs: 100,
      progressIntervalMs: 100,
      ...options.overrides,
    });
    const agent: TestAgent = {
      region,
      machine,
      handle,
      dir,
      reads,
      serviceDir: (service) => path.join(dir, 'services', service),
      runs: (service) => {
        const file = path.join(dir, 'services', service, 'runs.log');
        if (!fs.existsSync(file)) return [];
        return fs
          .readFileSync(file, 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((line) => {
            const [build, m, pid] = line.split(' ');
            return { build: build!, machine: m!, pid: Number(pid) };
          });
      },
      current: (service) => {
        try {
          return fs.readlinkSync(path.join(dir, 'services', service, 'current'));
        } catch {
          return null;
        }
      },
      stop: async () => {
        this.agents.delete(agent);
        await handle.stop({ stopServices: true });
      },
      stopAgentOnly: async () => {
        this.agents.delete(agent);
        await handle.stop({ stopServices: false });
      },
    };
    this.agents.add(agent);
    return agent;
  }

  async stopAgents(): Promise<void> {
    await Promise.all([...this.agents].map((agent) => agent.stop()));
  }

  /**
   * Kills every service process an agent of this fleet started (their groups), wherever its
   * agent went: services outlive SIGKILLed or SIGTERMed agents by design.
   */
  killServices(): void {
    const agents = path.join(this.dataDir, 'agents');
    if (!fs.existsSync(agents)) return;
    for (const agent of fs.readdirSync(agents)) {
      const services = path.join(agents, agent, 'services');
      for (const service of fs.existsSync(services) ? fs.readdirSync(services) : []) {
        const runs = path.join(services, service, 'runs.log');
        const pids = fs.existsSync(runs) ? fs.readFileSync(runs, 'utf8').trim().split('\n').map((line) => Number(line.split(' ')[2])) : [];
        for (const pid of pids.filter((p) => p > 1)) killWithGroup(pid, this.dataDir);
      }
    }
  }

  async stop(): Promise<void> {
    await this.stopAgents();
    this.killServices();
    for (const view of this.statusViews.values()) await view.close();
    await this.writer.close();
    await this.cluster.stop();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Silent, unless FLEETCAST_TEST_AGENT_LOG names a level (debugging a failing test). */
function testLogger(bindings: Record<string, unknown>): Logger {
  const level = process.env.FLEETCAST_TEST_AGENT_LOG;
  return level ? createLogger({ level, bindings: { role: 'agent', ...bindings } }) : silentLogger();
}

/**
 * The process and its whole group (the run command's shell leads it; runs.log has the script's
 * pid) — only if it still runs in a build dir under `dataDir`: a pid reused by another process
 * is left alone.
 */
function killWithGroup(pid: number, dataDir: string): void {
  let pgid: number | undefined;
  try {
    if (!fs.readlinkSync(`/proc/${pid}/cwd`).startsWith(dataDir + path.sep)) return;
    pgid = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[2]);
  } catch {
    return; // gone
  }
  for (const target of [pid, ...(pgid && pgid > 1 && pgid !== process.pid ? [-pgid] : [])]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}
