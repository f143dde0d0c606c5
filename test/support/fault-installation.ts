import { p2pIdentityEnv } from '../../up/p2p-identities.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { eventually } from './eventually.ts';
import { onlyJson, runCli, type CliRun } from './cli.ts';
import { TestNatsCluster } from './nats-cluster.ts';
import { freePort } from './private-mariadb.ts';
import { testGoalKeys, type TestGoalKeys } from './goal-keys.ts';
import { processesUnder, repoRoot } from './processes.ts';

/**
 * Settings that make recovery quick enough for a test: workers heartbeat every 300 ms and are
 * reaped after 2 s of silence, agents report every second. Every process gets them.
 */
export const quickRecovery: Record<string, string> = {
  FLEETCAST_LOG_LEVEL: 'info',
  FLEETCAST_HEARTBEAT_INTERVAL: '300ms',
  FLEETCAST_HEARTBEAT_TIMEOUT: '2s',
  FLEETCAST_REAPER_INTERVAL: '300ms',
  FLEETCAST_MAX_ATTEMPTS: '5',
  FLEETCAST_STATUS_INTERVAL: '1s',
  FLEETCAST_STATUS_SILENT_AFTER: '30s',
  FLEETCAST_AGENT_HEALTH_GRACE: '500ms',
  FLEETCAST_MIN_FREE_DISK: '64M',
  FLEETCAST_GIT_ALLOW_FILE: 'true',
  // The fault service counts its runs and its sleeps' pids in marker files outside its checkout,
  // which the bubblewrap sandbox rightly forbids; builder.test.ts kills sandboxed builds' workers.
  FLEETCAST_BUILD_SANDBOX: 'none',
  FLEETCAST_AGENT_MIN_FREE_DISK: '64M',
  FLEETCAST_DEPLOY_WAVES: 'all',
  FLEETCAST_AUDIT_EVERY: '7d',
  FLEETCAST_AGENT_P2P: 'true',
  // The tests check the bytes came from peers: the bucket only if P2P is broken for a minute.
  FLEETCAST_AGENT_BUCKET_FALLBACK: '60s',
};

/** One fleetcast process of the installation, that a test can kill -9 and start again. */
export class FaultRole {
  private child: ChildProcess | undefined;
  private exitedPromise: Promise<void> = Promise.resolve();
  /** Every line it wrote (stderr: pino JSON), across restarts. */
  readonly lines: string[] = [];
  readonly logFile: string;
  starts = 0;

  constructor(
    readonly name: string,
    readonly role: string,
    private readonly args: string[],
    private readonly env: () => Record<string, string>,
    logDir: string,
  ) {
    this.logFile = path.join(logDir, `${name}.log`);
  }

  get pid(): number | undefined {
    return this.child && this.child.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  /** Starts it and waits for its `<role> ready` line. */
  async start(timeoutMs = 60_000): Promise<void> {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('FLEETCAST_')));
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/fleetcast.js'), ...this.args], {
      cwd: repoRoot,
      env: { ...inherited, ...this.env() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.starts++;
    const log = fs.createWriteStream(this.logFile, { flags: 'a' });
    const mark = this.lines.length;
    for (const stream of [child.stdout!, child.stderr!]) {
      readline.createInterface({ input: stream }).on('line', (line) => {
        this.lines.push(line);
        log.write(`${line}\n`);
      });
    }
    this.exitedPromise = new Promise((resolve) => child.once('exit', () => (log.end(), resolve())));
    const ready = `"msg":"${this.role} ready"`;
    await eventually(
      () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${this.name} exited before it was ready; log ${this.logFile}:\n${this.lines.slice(-30).join('\n')}`);
        return this.lines.slice(mark).some((line) => line.includes(ready));
      },
      timeoutMs,
      `${this.name} to be ready (log ${this.logFile})`,
    );
  }

  /** kill -9: no chance to clean up. */
  async kill9(): Promise<void> {
    if (this.pid === undefined) return;
    this.child!.kill('SIGKILL');
    await this.exitedPromise;
  }

  async restart(): Promise<void> {
    await this.kill9();
    await this.start();
  }

  /** SIGTERM, SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (this.pid === undefined) return;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
    await this.exitedPromise;
    clearTimeout(timer);
  }

  /** Lines written since `from` (an index into lines) that contain every text. */
  logged(...texts: string[]): string[] {
    return this.lines.filter((line) => texts.every((text) => line.includes(text)));
  }
}

export interface FaultInstallationOptions {
  /** FLEETCAST_DATABASE_URL: a MariaDB database of the test's own. */
  databaseUrl: string;
  /** @defaultValue ['eu', 'us'] */
  regions?: string[];
  agentsPerRegion?: number;
  workers?: number;
  /** Extra settings for every process (after quickRecovery). */
  env?: Record<string, string>;
  /** Extra settings per role name (`agent`, `seeder`, `worker`…). */
  roleEnv?: Record<string, Record<string, string>>;
  /**
   * Regional buckets on another filesystem (/dev/shm) than the main one, so a copy streams its
   * bytes instead of being a hard link: a replicator can then be caught mid-copy.
   */
  regionalBucketsApart?: boolean;
  /**
   * What `fleetcast up --ha` runs: the NATS hub and each region as 3-server clusters with every
   * bucket replicated 3 times, every process given the list of its servers, and a second
   * coordinator (`coordinator-2`) on its own port (unless `coordinators` says how many).
   */
  ha?: boolean;
  /** Coordinators on the one database, `coordinator` then `coordinator-2`…, each on its own port (apiUrls). @defaultValue 1 (2 with `ha`) */
  coordinators?: number;
}

/**
 * A whole installation as separate `fleetcast` processes on a MariaDB database: a private NATS
 * hub and one leaf per region, a DHT bootstrap, the coordinator (replicating nothing itself),
 * builder workers, a replicator, a seeder and agents per region. Each process can be killed -9
 * and started again; client commands run through the real executable against it.
 */
export class FaultInstallation {
  readonly roles = new Map<string, FaultRole>();
  apiUrl = '';
  /** Each coordinator's API by role name (`coordinator`, `coordinator-2`…). */
  readonly apiUrls = new Map<string, string>();
  token = '';
  private apart: string | undefined;
  /** The goal-signing key pair, as `fleetcast up` makes it: the coordinator signs with `privateFile`, every agent and seeder trusts `publicFile`. */
  readonly keys: TestGoalKeys;

  private constructor(
    readonly dir: string,
    readonly regions: string[],
    readonly cluster: TestNatsCluster,
  ) {
    this.keys = testGoalKeys(dir);
  }

  static async start(options: FaultInstallationOptions): Promise<FaultInstallation> {
    const regions = options.regions ?? ['eu', 'us'];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-faults-'));
    const logDir = path.join(dir, 'logs');
    fs.mkdirSync(logDir);
    const cluster = await TestNatsCluster.start(regions, options.ha ? { nodes: 3 } : {});
    const install = new FaultInstallation(dir, regions, cluster);
    try {
      if (options.regionalBucketsApart) {
        install.apart = fs.mkdtempSync(path.join('/dev/shm', 'fleetcast-faults-'));
        fs.mkdirSync(path.join(dir, 'buckets'));
        for (const region of regions) {
          fs.mkdirSync(path.join(install.apart, region));
          fs.symlinkSync(path.join(install.apart, region), path.join(dir, 'buckets', `fleetcast-${region}`));
        }
      }
      const dht = `127.0.0.1:${await freePort()}`;
      const common = {
        ...quickRecovery,
        ...options.env,
        FLEETCAST_DATA_DIR: dir,
        FLEETCAST_DATABASE_URL: options.databaseUrl,
        FLEETCAST_REGIONS: regions.join(','),
        FLEETCAST_SECRET: randomBytes(32).toString('hex'),
        FLEETCAST_DHT_BOOTSTRAP: dht,
        FLEETCAST_GOAL_PUBLIC_KEYS: install.keys.publicFile,
        ...(options.ha ? { FLEETCAST_NATS_REPLICAS: '3' } : {}),
      };
      // Read at each start: a restarted NATS server keeps its port, but the env stays one place.
      const add = (name: string, role: string, args: string[], env: () => Record<string, string>) => {
        const made = new FaultRole(name, role, args, () => ({ ...common, ...options.roleEnv?.[role], ...env() }), logDir);
        install.roles.set(name, made);
        return made;
      };
      const urls = cluster.urls;
      add('dht', 'dht', ['dht', '--listen', dht], () => ({}));
      for (let n = 1; n <= (options.coordinators ?? (options.ha ? 2 : 1)); n++) {
        const name = n === 1 ? 'coordinator' : `coordinator-${n}`;
        const apiPort = await freePort();
        install.apiUrls.set(name, `http://127.0.0.1:${apiPort}`);
        add(name, 'coordinator', ['coordinator'], () => ({
          FLEETCAST_LISTEN: `127.0.0.1:${apiPort}`,
          FLEETCAST_NATS_URL: urls.hub,
          FLEETCAST_REPLICATION_CONCURRENCY: '0',
          FLEETCAST_GOAL_SIGNING_KEY: install.keys.privateFile,
        }));
      }
      install.apiUrl = install.apiUrls.get('coordinator')!;
      // The first coordinator alone first: it writes the data directory's API token the others read.
      await Promise.all([install.role('dht').start(), install.role('coordinator').start()]);
      install.token = fs.readFileSync(path.join(dir, 'api-token'), 'utf8').trim();
      for (let n = 1; n <= (options.workers ?? 2); n++) add(`worker-${n}`, 'worker', ['worker'], () => ({ FLEETCAST_WORKER_ID: `worker-${n}` }));
      add('replicator', 'replicator', ['replicator'], () => ({ FLEETCAST_WORKER_ID: 'replicator-1' }));
      for (const region of regions) {
        const seederIdentity = p2pIdentityEnv(dir, { role: 'seeder', region, name: `seeder-${region}`, machine: `seeder-${region}` });
        add(`seeder-${region}`, 'seeder', ['seeder', '--region', region], () => ({ ...seederIdentity, FLEETCAST_NATS_URL: urls.leaves[region]!, FLEETCAST_SEEDER_DIR: path.join(dir, 'seeders', region) }));
        for (let n = 1; n <= (options.agentsPerRegion ?? 2); n++) {
          const machine = `${region}-${n}`;
          const agentIdentity = p2pIdentityEnv(dir, { role: 'agent', region, name: `agent-${machine}`, machine });
          add(`agent-${machine}`, 'agent', ['agent', '--region', region, '--machine', machine], () => ({
            ...agentIdentity,
            FLEETCAST_NATS_URL: urls.agents[region]!,
            FLEETCAST_AGENT_DIR: install.agentDir(machine),
            FLEETCAST_AGENT_STOP_SERVICES: 'true',
          }));
        }
      }
      await Promise.all([...install.roles.values()].filter((r) => r.starts === 0).map((r) => r.start(90_000)));
      return install;
    } catch (err) {
      await install.stop();
      throw err;
    }
  }

  role(name: string): FaultRole {
    const found = this.roles.get(name);
    if (!found) throw new Error(`no process ${name} in the installation (have: ${[...this.roles.keys()].join(', ')})`);
    return found;
  }

  get agents(): FaultRole[] {
    return [...this.roles.values()].filter((r) => r.role === 'agent');
  }

  machineOf(agent: FaultRole): string {
    return agent.name.replace(/^agent-/, '');
  }

  agentDir(machine: string): string {
    return path.join(this.dir, 'agents', machine);
  }

  get clientEnv(): Record<string, string> {
    return { FLEETCAST_API_URL: this.apiUrl, FLEETCAST_API_TOKEN: this.token, FLEETCAST_DATA_DIR: this.dir };
  }

  cli(args: string[]): Promise<CliRun> {
    return runCli(args, this.clientEnv);
  }

  /** `fleetcast ARGS --json`, which must exit 0; its document. */
  async json(args: string[]): Promise<any> {
    const run = await this.cli([...args, '--json']);
    if (run.code !== 0) throw new Error(`fleetcast ${args.join(' ')} exited ${run.code}:\n${run.stdout}\n${run.stderr}`);
    return onlyJson(run);
  }

  /** A request to the coordinator's HTTP API with the admin token; its JSON. */
  async api(method: string, urlPath: string, body?: unknown, apiUrl = this.apiUrl): Promise<{ status: number; json: any }> {
    const reply = await fetch(`${apiUrl}${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    const text = await reply.text();
    return { status: reply.status, json: text ? JSON.parse(text) : null };
  }

  /** The build as `GET /v1/builds/:id` shows it (throws while the coordinator is away). */
  async build(id: string): Promise<any> {
    const reply = await this.api('GET', `/v1/builds/${id}`);
    if (reply.status !== 200) throw new Error(`GET /v1/builds/${id}: ${reply.status} ${JSON.stringify(reply.json)}`);
    return reply.json;
  }

  /** Waits for the build to be SUCCEEDED or FAILED and every region's copy to be DONE (if it SUCCEEDED). */
  async settled(id: string, timeoutMs = 60_000): Promise<any> {
    return eventually(
      async () => {
        const build = await this.build(id);
        if (build.status === 'FAILED') return build;
        return build.status === 'SUCCEEDED' && build.replication.length === this.regions.length && build.replication.every((r: { status: string }) => r.status === 'DONE') && build;
      },
      timeoutMs,
      `${id} to finish and be copied to every region`,
    );
  }

  /** Waits until every machine of every region reports running the build its goal names. */
  async converged(service: string, build: string, machinesPerRegion: number, timeoutMs = 90_000): Promise<any> {
    return eventually(
      async () => {
        const status = await this.api('GET', `/v1/services/${service}/status`);
        const regions = status.json?.regions as { goal: { build: string } | null; convergence: { machines: number; running: number } }[] | undefined;
        return (
          regions?.length === this.regions.length &&
          regions.every((r) => r.goal?.build === build && r.convergence.machines === machinesPerRegion && r.convergence.running === machinesPerRegion) &&
          status.json
        );
      },
      timeoutMs,
      `every machine to run ${service} ${build}`,
    );
  }

  /** Agents first (they stop their services), the coordinator, the NATS servers last; then anything left. */
  async stop(): Promise<void> {
    const order = [...this.roles.values()].reverse();
    for (const role of order) await role.stop().catch(() => undefined);
    await this.cluster.stop().catch(() => undefined);
    for (const pid of processesUnder(this.dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    if (process.env.FLEETCAST_KEEP_TEST_DIRS) return;
    fs.rmSync(this.dir, { recursive: true, force: true });
    if (this.apart) fs.rmSync(this.apart, { recursive: true, force: true });
  }
}

/** Whether a process of this pid is alive (and not a zombie). */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}
