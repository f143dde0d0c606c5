import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.ts';
import { NatsServerProcess } from './nats-server-process.ts';
import type { NatsIdentityRegistry } from '../../trust/index.ts';
import { renderClusterConfig, renderHubConfig, renderLeafConfig } from './render-config.ts';
import type { LocalTlsFiles } from './local-tls.ts';
import { renderHubUsers, renderLeafUsers } from './users-config.ts';

export interface LocalNatsClusterOptions {
  /** One leaf node per region. */
  regions: string[];
  /** Configs, JetStream stores and logs go here. @defaultValue a new temporary directory, removed by `stop()` */
  dir?: string;
  /** @defaultValue `127.0.0.1` */
  host?: string;
  /** @defaultValue `FLEETCAST_NATS_SERVER`, else `nats-server` on the PATH, else `/usr/sbin/nats-server` */
  binary?: string;
  /** How long to wait for a server (and its leaf links) to be ready. @defaultValue 20_000 */
  readyTimeoutMs?: number;
  /**
   * Per-machine identities (fleetcast creds): the servers' users are the registry's active
   * identities, each with only its role's subjects, and there is no shared coordinator or
   * agent password (`urls.hub` and `urls.agents` carry none; clients present a creds file).
   * Without it the cluster has the shared password users tests of other parts use.
   */
  identities?: NatsIdentityRegistry;
  /**
   * TLS on every client port (a plaintext client is refused; URLs are `tls://`) and mutual TLS
   * on the leaf links, with these files (ops/nats/local-tls.ts). Clients need the CA.
   */
  tls?: LocalTlsFiles;
  /**
   * Servers per cluster: 1 runs a single hub server and a single leaf per region; 3 runs the hub
   * as a 3-server JetStream cluster and each region as 3 clustered leaf servers whose links fail
   * over between the hub's servers (`fleetcast up --ha`). Buckets get their replicas from the
   * coordinator (FLEETCAST_NATS_REPLICAS). @defaultValue 1
   */
  nodes?: number;
}

/** Client URLs with their credentials, as printed by ops/nats/start-cluster.ts; a cluster's servers separated by commas. */
export interface LocalNatsClusterUrls {
  /** The hub, as the coordinator (may write `goal`, manage every domain). */
  hub: string;
  /** Each region's leaf, as its admin. */
  leaves: Record<string, string>;
  /** Each region's leaf, as an edge agent (read goal-<region>, write status-<region>). */
  agents: Record<string, string>;
  /** The hub with the leaf-link user's credentials (what a region presents to the hub). */
  leafLink: string;
  /** Where a leaf node's `remotes` point: the hub's leaf-node port, with the leaf-link credentials. */
  hubLeafnodes: string;
}

/** Starts on fresh ports after a port was taken between choosing and binding it. */
const maxPortAttempts = 4;

/** The TLS blocks the configs include: the servers' certificate on client ports, mutual TLS on leaf links. */
function writeTlsIncludes(dir: string, tls: LocalTlsFiles): void {
  const block = (entries: Record<string, string | boolean | number>) => `tls ${JSON.stringify(entries)}\n`;
  const files: Record<string, string> = {
    'client-tls.conf': block({ cert_file: tls.serverCert, key_file: tls.serverKey, ca_file: tls.ca, timeout: 5 }),
    'hub-leaf-tls.conf': block({ cert_file: tls.serverCert, key_file: tls.serverKey, ca_file: tls.ca, verify: true, timeout: 5 }),
    'leaf-remote-tls.conf': block({ cert_file: tls.leafCert, key_file: tls.leafKey, ca_file: tls.ca, timeout: 5 }),
    // Routes between the servers of a cluster: each side presents the server certificate (it
    // is also a client certificate) and checks the other's.
    'route-tls.conf': block({ cert_file: tls.serverCert, key_file: tls.serverKey, ca_file: tls.ca, verify: true, timeout: 5 }),
  };
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text, { mode: 0o600 });
}

/** A server's ports: clients, leaf links (hub only), monitoring, routes (clusters only). */
interface ServerPorts {
  client: number;
  leaf: number;
  monitor: number;
  cluster: number;
}

async function serverPorts(host: string, count: number): Promise<ServerPorts[]> {
  const ports: ServerPorts[] = [];
  for (let i = 0; i < count; i++) ports.push({ client: await freePort(host), leaf: await freePort(host), monitor: await freePort(host), cluster: await freePort(host) });
  return ports;
}

/** Writes server `index`'s cluster include (routes to the others); none for a cluster of one. */
function writeClusterInclude(dir: string, serverName: string, clusterName: string, host: string, ports: ServerPorts[], index: number, tls: boolean): string | undefined {
  if (ports.length === 1) return undefined;
  const file = `${serverName}-cluster.conf`;
  const routes = ports.filter((_, i) => i !== index).map((p) => `nats-route://${host}:${p.cluster}`);
  fs.writeFileSync(path.join(dir, file), renderClusterConfig({ name: clusterName, host, clusterPort: ports[index]!.cluster, routes, ...(tls ? { routeTlsFile: 'route-tls.conf' } : {}) }), { mode: 0o600 });
  return file;
}

/** Polls until `ready` holds. */
async function waitUntil(ready: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A server's users file and how to render it. */
interface UsersFile {
  file: string;
  render: () => string;
}

interface Server {
  process: NatsServerProcess;
  clientPort: number;
}

/**
 * A private NATS hub plus one leaf node per region, each its own nats-server process on ports
 * the OS picked, for development and tests — or, with `nodes: 3`, a hub cluster and a leaf
 * cluster per region. Ports and stores survive stop/start of one server,
 * so clients reconnect to the same URL and a restarted leaf resumes its mirror.
 */
export class LocalNatsCluster {
  private constructor(
    readonly dir: string,
    private readonly removeDirOnStop: boolean,
    readonly regions: string[],
    readonly urls: LocalNatsClusterUrls,
    private readonly hub: Server[],
    private readonly leaves: Map<string, Server[]>,
    private readonly users: UsersFile[],
    private readonly readyTimeoutMs: number,
    /** The CA clients check the servers against, when the cluster runs TLS. */
    readonly ca: string | undefined,
  ) {}

  static async start(options: LocalNatsClusterOptions): Promise<LocalNatsCluster> {
    const regions = [...options.regions];
    if (regions.length === 0) throw new Error('name at least one region');
    if (new Set(regions).size !== regions.length) throw new Error(`a region is named twice: ${regions.join(',')}`);
    // A port the OS called free can be taken by another process before nats-server binds it
    // (parallel test files do this): start again on fresh ports.
    for (let attempt = 1; ; attempt++) {
      try {
        return await LocalNatsCluster.startOnce(options, regions);
      } catch (err) {
        if (attempt >= maxPortAttempts || !/address already in use/.test((err as Error).message)) throw err;
      }
    }
  }

  private static async startOnce(options: LocalNatsClusterOptions, regions: string[]): Promise<LocalNatsCluster> {
    const host = options.host ?? '127.0.0.1';
    const nodes = options.nodes ?? 1;
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > 5) throw new Error(`nodes ${nodes}: give 1 (single servers) to 5 servers per cluster`);
    const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-nats-'));
    fs.mkdirSync(dir, { recursive: true });
    const password = () => randomBytes(12).toString('hex');
    const identities = options.identities;
    const passwords = { coordinator: identities ? undefined : password(), leaf: password() };
    if (options.tls) writeTlsIncludes(dir, options.tls);
    const scheme = options.tls ? 'tls' : 'nats';
    const tlsIncludes = (leafTlsFile: string) => (options.tls ? { tlsFile: 'client-tls.conf', leafTlsFile } : {});
    // One name per server; a single server keeps the names it always had (`hub`, `leaf-<region>`).
    const serverName = (base: string, n: number) => (nodes === 1 ? base : `${base}-${n}`);

    const hubPorts = await serverPorts(host, nodes);
    const hub: Server[] = [];
    for (const [i, ports] of hubPorts.entries()) {
      const name = serverName('hub', i + 1);
      const clusterFile = writeClusterInclude(dir, name, 'hub', host, hubPorts, i, options.tls !== undefined);
      const conf = path.join(dir, `${name}.conf`);
      fs.writeFileSync(
        conf,
        renderHubConfig({
          serverName: name,
          host,
          clientPort: ports.client,
          leafPort: ports.leaf,
          monitorPort: ports.monitor,
          storeDir: path.join(dir, name),
          usersFile: 'hub-users.conf',
          ...tlsIncludes('hub-leaf-tls.conf'),
          ...(clusterFile ? { clusterFile } : {}),
        }),
        { mode: 0o600 },
      );
      hub.push({ clientPort: ports.client, process: new NatsServerProcess({ name, configFile: conf, logFile: path.join(dir, `${name}.log`), monitorUrl: `http://${host}:${ports.monitor}`, binary: options.binary }) });
    }

    const users: UsersFile[] = [{ file: path.join(dir, 'hub-users.conf'), render: () => renderHubUsers({ leafPassword: passwords.leaf, coordinatorPassword: passwords.coordinator, identities: identities?.active() ?? [] }) }];
    // Every server of a cluster in one URL, comma-separated (FLEETCAST_NATS_URL takes that form):
    // the client fails over between them by itself.
    const list = (credentials: string, ports: number[], prefix = scheme) => ports.map((port) => `${prefix}://${credentials}${host}:${port}`).join(',');
    const hubClientPorts = hubPorts.map((p) => p.client);
    const urls: LocalNatsClusterUrls = {
      hub: list(passwords.coordinator ? `coordinator:${passwords.coordinator}@` : '', hubClientPorts),
      leaves: {},
      agents: {},
      leafLink: list(`leaf:${passwords.leaf}@`, hubClientPorts),
      hubLeafnodes: list(`leaf:${passwords.leaf}@`, hubPorts.map((p) => p.leaf), 'nats-leaf'),
    };
    const leaves = new Map<string, Server[]>();
    for (const region of regions) {
      const leafPasswords = { admin: password(), agent: identities ? undefined : password() };
      const usersFile = `leaf-${region}-users.conf`;
      users.push({ file: path.join(dir, usersFile), render: () => renderLeafUsers({ region, adminPassword: leafPasswords.admin, agentPassword: leafPasswords.agent, identities: identities?.active() ?? [] }) });
      const leafPorts = await serverPorts(host, nodes);
      const servers: Server[] = [];
      for (const [i, ports] of leafPorts.entries()) {
        const name = serverName(`leaf-${region}`, i + 1);
        const clusterFile = writeClusterInclude(dir, name, `leaf-${region}`, host, leafPorts, i, options.tls !== undefined);
        const conf = path.join(dir, `${name}.conf`);
        fs.writeFileSync(
          conf,
          renderLeafConfig({
            region,
            serverName: name,
            host,
            clientPort: ports.client,
            monitorPort: ports.monitor,
            storeDir: path.join(dir, name),
            hubLeafUrl: urls.hubLeafnodes,
            usersFile,
            ...tlsIncludes('leaf-remote-tls.conf'),
            ...(clusterFile ? { clusterFile } : {}),
          }),
          { mode: 0o600 },
        );
        servers.push({ clientPort: ports.client, process: new NatsServerProcess({ name, configFile: conf, logFile: path.join(dir, `${name}.log`), monitorUrl: `http://${host}:${ports.monitor}`, binary: options.binary }) });
      }
      leaves.set(region, servers);
      const leafClientPorts = leafPorts.map((p) => p.client);
      urls.leaves[region] = list(`admin:${leafPasswords.admin}@`, leafClientPorts);
      urls.agents[region] = list(leafPasswords.agent ? `agent:${leafPasswords.agent}@` : '', leafClientPorts);
    }

    const cluster = new LocalNatsCluster(dir, options.dir === undefined, regions, urls, hub, leaves, users, options.readyTimeoutMs ?? 20_000, options.tls?.ca);
    try {
      cluster.writeUsers();
      await cluster.startHub();
      await Promise.all(regions.map((region) => cluster.startLeaf(region)));
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /**
   * Renders every server's users from the identity registry again and has the running servers
   * reload them: a revoked identity is refused (and its connections closed), nobody else is
   * touched. A server that is down reads the new file when it starts.
   */
  async reloadUsers(): Promise<void> {
    this.writeUsers();
    await Promise.all([...this.hub, ...[...this.leaves.values()].flat()].map((server) => server.process.reload(this.readyTimeoutMs)));
  }

  private writeUsers(): void {
    for (const { file, render } of this.users) {
      fs.writeFileSync(`${file}.tmp`, render(), { mode: 0o600 });
      fs.renameSync(`${file}.tmp`, file);
    }
  }

  /** How many servers each cluster has (1: single servers). */
  get nodes(): number {
    return this.hub.length;
  }

  /**
   * Starts the hub's servers (again; `node`: only that one, 1-based) and waits until every
   * running leaf server has linked to one of them. The servers of a cluster start together: a
   * clustered JetStream server is healthy only once it reaches the others.
   */
  async startHub(node?: number): Promise<void> {
    await Promise.all(this.pick(this.hub, node, 'hub').map((server) => server.process.start(this.readyTimeoutMs)));
    const expected = [...this.leaves.values()].flat().filter((leaf) => leaf.process.running).length;
    const running = this.hub.filter((server) => server.process.running);
    await waitUntil(
      async () => (await Promise.all(running.map((server) => server.process.leafConnections()))).reduce((sum, n) => sum + n, 0) === expected,
      this.readyTimeoutMs,
      `${expected} leaf links to the hub`,
    );
  }

  /** Stops the hub's servers (`node`: only that one; `kill`: SIGKILL, as a crash). */
  async stopHub(options: { kill?: boolean; node?: number } = {}): Promise<void> {
    await Promise.all(this.pick(this.hub, options.node, 'hub').map((server) => server.process.stop(options)));
  }

  /** Starts a region's leaf servers (again; `node`: only that one); waits for their links when a hub server runs. */
  async startLeaf(region: string, node?: number): Promise<void> {
    const servers = this.pick(this.leaf(region), node, `leaf ${region}`);
    await Promise.all(servers.map((server) => server.process.start(this.readyTimeoutMs)));
    if (this.hub.some((server) => server.process.running)) {
      await Promise.all(
        servers.map((server) => server.process.waitFor('/leafz', async (res) => ((await res.json()) as { leafnodes?: number }).leafnodes === 1, this.readyTimeoutMs, `${server.process.options.name} to link to the hub`)),
      );
    }
  }

  async stopLeaf(region: string, options: { kill?: boolean; node?: number } = {}): Promise<void> {
    await Promise.all(this.pick(this.leaf(region), options.node, `leaf ${region}`).map((server) => server.process.stop(options)));
  }

  /** Every hub server runs (`node`: that one does). */
  hubRunning(node?: number): boolean {
    return this.pick(this.hub, node, 'hub').every((server) => server.process.running);
  }

  leafRunning(region: string, node?: number): boolean {
    return this.pick(this.leaf(region), node, `leaf ${region}`).every((server) => server.process.running);
  }

  processes(): { role: 'nats-hub' | 'nats-leaf'; region?: string; pid: number }[] {
    const list: { role: 'nats-hub' | 'nats-leaf'; region?: string; pid: number }[] = [];
    for (const server of this.hub) if (server.process.pid) list.push({ role: 'nats-hub', pid: server.process.pid });
    for (const [region, servers] of this.leaves) for (const server of servers) if (server.process.pid) list.push({ role: 'nats-leaf', region, pid: server.process.pid });
    return list;
  }

  /** Stops every server (leaves first, so they do not log the hub going away) and removes a temporary dir. */
  async stop(): Promise<void> {
    await Promise.all([...this.leaves.values()].flat().map((leaf) => leaf.process.stop()));
    await Promise.all(this.hub.map((server) => server.process.stop()));
    if (this.removeDirOnStop) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private pick(servers: Server[], node: number | undefined, what: string): Server[] {
    if (node === undefined) return servers;
    const server = servers[node - 1];
    if (!server) throw new Error(`${what} has servers 1 to ${servers.length}, not ${node}`);
    return [server];
  }

  private leaf(region: string): Server[] {
    const leaf = this.leaves.get(region);
    if (!leaf) throw new Error(`no leaf for region ${region}; regions: ${this.regions.join(', ')}`);
    return leaf;
  }
}
