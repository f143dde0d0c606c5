import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.ts';
import { NatsServerProcess } from './nats-server-process.ts';
import type { NatsIdentityRegistry } from '../../trust/index.ts';
import { renderHubConfig, renderLeafConfig } from './render-config.ts';
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
}

/** Client URLs with their credentials, as printed by ops/nats/start-cluster.ts. */
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
  };
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text, { mode: 0o600 });
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
 * the OS picked, for development and tests. Ports and stores survive stop/start of one server,
 * so clients reconnect to the same URL and a restarted leaf resumes its mirror.
 */
export class LocalNatsCluster {
  private constructor(
    readonly dir: string,
    private readonly removeDirOnStop: boolean,
    readonly regions: string[],
    readonly urls: LocalNatsClusterUrls,
    private readonly hub: Server,
    private readonly leaves: Map<string, Server>,
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
    const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-nats-'));
    fs.mkdirSync(dir, { recursive: true });
    const password = () => randomBytes(12).toString('hex');
    const identities = options.identities;
    const passwords = { coordinator: identities ? undefined : password(), leaf: password() };
    const ports = { client: await freePort(host), leaf: await freePort(host), monitor: await freePort(host) };

    const hubConf = path.join(dir, 'hub.conf');
    fs.writeFileSync(
      hubConf,
      renderHubConfig({
        host,
        clientPort: ports.client,
        leafPort: ports.leaf,
        monitorPort: ports.monitor,
        storeDir: path.join(dir, 'hub'),
        usersFile: 'hub-users.conf',
        ...(options.tls ? { tlsFile: 'client-tls.conf', leafTlsFile: 'hub-leaf-tls.conf' } : {}),
      }),
      { mode: 0o600 },
    );
    const hub: Server = {
      clientPort: ports.client,
      process: new NatsServerProcess({ name: 'hub', configFile: hubConf, logFile: path.join(dir, 'hub.log'), monitorUrl: `http://${host}:${ports.monitor}`, binary: options.binary }),
    };

    if (options.tls) writeTlsIncludes(dir, options.tls);
    const scheme = options.tls ? 'tls' : 'nats';
    const users: UsersFile[] = [{ file: path.join(dir, 'hub-users.conf'), render: () => renderHubUsers({ leafPassword: passwords.leaf, coordinatorPassword: passwords.coordinator, identities: identities?.active() ?? [] }) }];
    const urls: LocalNatsClusterUrls = {
      hub: `${scheme}://${passwords.coordinator ? `coordinator:${passwords.coordinator}@` : ''}${host}:${ports.client}`,
      leaves: {},
      agents: {},
      leafLink: `${scheme}://leaf:${passwords.leaf}@${host}:${ports.client}`,
      hubLeafnodes: `nats-leaf://leaf:${passwords.leaf}@${host}:${ports.leaf}`,
    };
    const leaves = new Map<string, Server>();
    for (const region of regions) {
      const leafPasswords = { admin: password(), agent: identities ? undefined : password() };
      const usersFile = `leaf-${region}-users.conf`;
      users.push({ file: path.join(dir, usersFile), render: () => renderLeafUsers({ region, adminPassword: leafPasswords.admin, agentPassword: leafPasswords.agent, identities: identities?.active() ?? [] }) });
      const clientPort = await freePort(host);
      const monitorPort = await freePort(host);
      const conf = path.join(dir, `leaf-${region}.conf`);
      fs.writeFileSync(
        conf,
        renderLeafConfig({
          region,
          host,
          clientPort,
          monitorPort,
          storeDir: path.join(dir, `leaf-${region}`),
          hubLeafUrl: urls.hubLeafnodes,
          usersFile,
          ...(options.tls ? { tlsFile: 'client-tls.conf', leafTlsFile: 'leaf-remote-tls.conf' } : {}),
        }),
        { mode: 0o600 },
      );
      leaves.set(region, {
        clientPort,
        process: new NatsServerProcess({ name: `leaf-${region}`, configFile: conf, logFile: path.join(dir, `leaf-${region}.log`), monitorUrl: `http://${host}:${monitorPort}`, binary: options.binary }),
      });
      urls.leaves[region] = `${scheme}://admin:${leafPasswords.admin}@${host}:${clientPort}`;
      urls.agents[region] = `${scheme}://${leafPasswords.agent ? `agent:${leafPasswords.agent}@` : ''}${host}:${clientPort}`;
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
    await Promise.all([this.hub, ...this.leaves.values()].map((server) => server.process.reload(this.readyTimeoutMs)));
  }

  private writeUsers(): void {
    for (const { file, render } of this.users) {
      fs.writeFileSync(`${file}.tmp`, render(), { mode: 0o600 });
      fs.renameSync(`${file}.tmp`, file);
    }
  }

  /** Starts the hub (again) and waits until every running leaf has linked to it. */
  async startHub(): Promise<void> {
    await this.hub.process.start(this.readyTimeoutMs);
    const expected = [...this.leaves.values()].filter((leaf) => leaf.process.running).length;
    await this.hub.process.waitFor('/leafz', async (res) => ((await res.json()) as { leafnodes?: number }).leafnodes === expected, this.readyTimeoutMs, `${expected} leaf links to the hub`);
  }

  async stopHub(options: { kill?: boolean } = {}): Promise<void> {
    await this.hub.process.stop(options);
  }

  /** Starts a region's leaf (again); waits for its link when the hub runs. */
  async startLeaf(region: string): Promise<void> {
    const leaf = this.leaf(region);
    await leaf.process.start(this.readyTimeoutMs);
    if (this.hub.process.running) {
      await leaf.process.waitFor('/leafz', async (res) => ((await res.json()) as { leafnodes?: number }).leafnodes === 1, this.readyTimeoutMs, `leaf ${region} to link to the hub`);
    }
  }

  async stopLeaf(region: string, options: { kill?: boolean } = {}): Promise<void> {
    await this.leaf(region).process.stop(options);
  }

  hubRunning(): boolean {
    return this.hub.process.running;
  }

  leafRunning(region: string): boolean {
    return this.leaf(region).process.running;
  }

  processes(): { role: 'nats-hub' | 'nats-leaf'; region?: string; pid: number }[] {
    const list: { role: 'nats-hub' | 'nats-leaf'; region?: string; pid: number }[] = [];
    if (this.hub.process.pid) list.push({ role: 'nats-hub', pid: this.hub.process.pid });
    for (const [region, leaf] of this.leaves) if (leaf.process.pid) list.push({ role: 'nats-leaf', region, pid: leaf.process.pid });
    return list;
  }

  /** Stops every server (leaves first, so they do not log the hub going away) and removes a temporary dir. */
  async stop(): Promise<void> {
    await Promise.all([...this.leaves.values()].map((leaf) => leaf.process.stop()));
    await this.hub.process.stop();
    if (this.removeDirOnStop) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private leaf(region: string): Server {
    const leaf = this.leaves.get(region);
    if (!leaf) throw new Error(`no leaf for region ${region}; regions: ${this.regions.join(', ')}`);
    return leaf;
  }
}
