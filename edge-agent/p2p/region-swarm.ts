import HyperDHT, { type DhtNodeAddress } from 'hyperdht';
import type { HypercoreError, HypercorePeer } from 'hypercore';
import Hyperswarm, { type PeerDiscovery, type SwarmConnection } from 'hyperswarm';
import { silentLogger, type Logger } from '../../logging/index.ts';
import { RateLimiter } from '../limits/rate-limiter.ts';
import type { ArtifactCore } from './artifact-core.ts';
import { gateUploads } from './upload-gate.ts';

export interface RegionSwarmOptions {
  /** Peers meet on topics scoped to this region (regionTopic). */
  region: string;
  /** DHT nodes to join through (FLEETCAST_DHT_BOOTSTRAP). */
  bootstrap: DhtNodeAddress[];
  /** Address the UDP socket binds to. @defaultValue `0.0.0.0` */
  host?: string;
  /** Connections kept at most (FLEETCAST_P2P_MAX_PEERS). @defaultValue 64 */
  maxPeers?: number;
  /** Shared by every connection: the machine's upload cap (FLEETCAST_P2P_UPLOAD_LIMIT). @defaultValue no limit */
  uploadLimiter?: RateLimiter;
  /** Bound to every line: role, machine… @defaultValue a silent logger */
  logger?: Logger;
}

/** A peer that sent data failing Hypercore's verification, and was dropped. */
export interface RejectedPeer {
  /** The peer's swarm public key, hex. */
  peer: string;
  build: string;
  /** Hypercore's code: INVALID_CHECKSUM, INVALID_SIGNATURE… */
  code: string;
  at: Date;
}

export interface ServeOptions {
  /**
   * Also look for peers of the topic (agents: they fetch). Seeders only announce: agents find
   * them, and seeders do not spend connections on each other. @defaultValue false
   */
  client?: boolean;
}

interface Served {
  core: ArtifactCore;
  discovery: PeerDiscovery;
  uploaded: number;
  onVerificationError: (error: HypercoreError, request: unknown, data: unknown, from: HypercorePeer) => void;
  onUpload: (index: number, bytes: number) => void;
  ungate: () => void;
  lookups: NodeJS.Timeout | undefined;
}

/**
 * Pauses between lookups of a topic while its core is incomplete: machines that joined at
 * nearly the same moment each looked the topic up before the others had announced, and
 * hyperswarm looks again only every 10 minutes.
 */
const lookupPausesMs = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000];

/** Banned peers remembered at most; a flood of throwaway keys cannot grow memory without end. */
const maxBanned = 10_000;

/**
 * One machine's presence in its region's swarm: a Hyperswarm on the fleet's DHT, every served
 * core replicated over every connection (Hypercore pairs the cores both sides have), the block
 * uploads of all cores and connections capped together (upload-gate.ts), and any peer whose data fails verification dropped and
 * refused from then on.
 */
export class RegionSwarm {
  private readonly served = new Map<string, Served>();
  private readonly banned = new Set<string>();
  private readonly rejected: RejectedPeer[] = [];
  private readonly logger: Logger;
  private readonly uploadLimiter: RateLimiter;
  private readonly maxPeers: number;
  private closing = false;

  private constructor(
    readonly region: string,
    private readonly swarm: Hyperswarm,
    options: RegionSwarmOptions,
  ) {
    this.logger = (options.logger ?? silentLogger()).child({ region });
    this.uploadLimiter = options.uploadLimiter ?? new RateLimiter(null);
    this.maxPeers = options.maxPeers ?? 64;
    swarm.on('connection', (connection) => this.onConnection(connection));
  }

  static async start(options: RegionSwarmOptions): Promise<RegionSwarm> {
    // Fleet machines of a region reach each other directly (a data centre network, no NAT between
    // them): saying so skips hole punching, which between processes on one host took 20–30 s
    // per connection here, against milliseconds for a direct connect.
    const dht = new HyperDHT({ bootstrap: options.bootstrap, host: options.host ?? '0.0.0.0', firewalled: false });
    await dht.ready();
    let self: RegionSwarm | undefined;
    const swarm = new Hyperswarm({
      dht,
      maxPeers: options.maxPeers ?? 64,
      firewall: (remotePublicKey) => self?.banned.has(remotePublicKey.toString('hex')) ?? false,
    });
    self = new RegionSwarm(options.region, swarm, options);
    return self;
  }

  /** Announces the core on the region's topic and replicates it with every peer. Idempotent. */
  async serve(core: ArtifactCore, options: ServeOptions = {}): Promise<void> {
    if (this.served.has(core.key)) return;
    const entry: Served = {
      core,
      discovery: this.swarm.join(core.topic(this.region), { server: true, client: options.client ?? false }),
      uploaded: 0,
      onVerificationError: (error, _request, _data, from) => this.reject(from, core, error),
      onUpload: (_index, bytes) => (entry.uploaded += bytes),
      ungate: gateUploads(core, this.uploadLimiter),
      lookups: undefined,
    };
    this.served.set(core.key, entry);
    core.hypercore.on('verification-error', entry.onVerificationError);
    core.hypercore.on('upload', entry.onUpload);
    for (const connection of this.swarm.connections) core.hypercore.replicate(connection);
    await entry.discovery.flushed();
    if (options.client) this.lookAgain(entry, 0);
  }

  private lookAgain(entry: Served, attempt: number): void {
    entry.lookups = setTimeout(() => {
      if (this.served.get(entry.core.key) !== entry || entry.core.complete) return;
      if (this.swarm.connections.size < this.maxPeers) {
        entry.discovery.refresh({ server: true, client: true }).catch((err: Error) => this.logger.debug({ err: err.message }, 'looking the topic up again failed'));
      }
      this.lookAgain(entry, attempt + 1);
    }, lookupPausesMs[Math.min(attempt, lookupPausesMs.length - 1)]);
    entry.lookups.unref();
  }

  /** Stops announcing the core (its open replication channels end when the core closes). */
  async unserve(core: ArtifactCore): Promise<void> {
    const entry = this.served.get(core.key);
    if (!entry) return;
    this.served.delete(core.key);
    core.hypercore.off('verification-error', entry.onVerificationError);
    core.hypercore.off('upload', entry.onUpload);
    entry.ungate();
    clearTimeout(entry.lookups);
    await entry.discovery.destroy();
  }

  isServing(core: ArtifactCore): boolean {
    return this.served.has(core.key);
  }

  /** Bytes of this core's blocks uploaded to peers since it was served. */
  uploadedBytes(core: ArtifactCore): number {
    return this.served.get(core.key)?.uploaded ?? 0;
  }

  /** This machine's public key in the swarm (hex): how peers see and name it. */
  get peerKey(): string {
    return this.swarm.keyPair.publicKey.toString('hex');
  }

  /** Open connections to other machines. */
  get connections(): number {
    return this.swarm.connections.size;
  }

  /** Peers dropped for sending data that failed verification, oldest first. */
  rejectedPeers(): RejectedPeer[] {
    return [...this.rejected];
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const entry of [...this.served.values()]) await this.unserve(entry.core);
    await this.swarm.destroy();
  }

  private onConnection(connection: SwarmConnection): void {
    const peer = connection.remotePublicKey.toString('hex');
    // A reset connection is ordinary on a network; what matters is logged where it matters.
    connection.on('error', (err: Error) => this.logger.debug({ peer, err: err.message }, 'P2P connection failed'));
    if (this.banned.has(peer) || this.closing) {
      connection.destroy();
      return;
    }
    for (const { core } of this.served.values()) core.hypercore.replicate(connection);
  }

  private reject(from: HypercorePeer, core: ArtifactCore, error: HypercoreError): void {
    const peer = from.remotePublicKey.toString('hex');
    const first = !this.banned.has(peer);
    if (first) {
      if (this.banned.size >= maxBanned) this.banned.delete(this.banned.values().next().value!);
      this.banned.add(peer);
      this.rejected.push({ peer, build: core.build.build, code: error.code ?? 'INVALID_DATA', at: new Date() });
      if (this.rejected.length > 100) this.rejected.shift();
      this.logger.warn(
        { peer, build: core.build.build, service: core.build.service, code: error.code, err: error.message },
        `peer ${peer.slice(0, 12)} sent data of build ${core.build.build} that failed verification (${error.code ?? error.message}): it is dropped and refused from now on`,
      );
    }
    this.swarm.peers.get(peer)?.ban(true);
    for (const connection of this.swarm.connections) {
      if (connection.remotePublicKey.toString('hex') === peer) connection.destroy();
    }
  }
}
