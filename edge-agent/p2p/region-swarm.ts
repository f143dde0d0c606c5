import HyperDHT, { type DhtNodeAddress } from 'hyperdht';
import Hyperswarm, { type PeerDiscovery, type SwarmConnection } from 'hyperswarm';
import { silentLogger, type Logger } from '../../logging/index.ts';
import { RateLimiter } from '../limits/rate-limiter.ts';
import { admit } from './admission.ts';
import type { ArtifactCore } from './artifact-core.ts';
import { BlockListener } from './block-listener.ts';
import { BlockSession } from './block-session.ts';
import type { FleetIdentity } from './fleet-identity.ts';

export interface RegionSwarmOptions {
  /** Peers meet on topics scoped to this region (regionTopic). */
  region: string;
  /** DHT nodes to join through (FLEETCAST_DHT_BOOTSTRAP). */
  bootstrap: DhtNodeAddress[];
  /** This machine's fleet identity: its Noise key, certificate and the CA keys it trusts. */
  identity: FleetIdentity;
  /** Address the UDP (swarm) and TCP (blocks) sockets bind to (FLEETCAST_P2P_HOST). */
  host: string;
  /** Their port (FLEETCAST_P2P_PORT); 0: a free one. */
  port: number;
  /** Connections kept at most (FLEETCAST_P2P_MAX_PEERS). @defaultValue 64 */
  maxPeers?: number;
  /** Shared by every connection: the machine's upload cap (FLEETCAST_P2P_UPLOAD_LIMIT). @defaultValue no limit */
  uploadLimiter?: RateLimiter;
  /** @defaultValue a silent logger */
  logger?: Logger;
}

/** A peer refused: its data failed verification, or it was not admitted. */
export interface RejectedPeer {
  /** The peer's swarm public key, hex. */
  peer: string;
  /** The build concerned; null for a peer refused at admission. */
  build: string | null;
  /** INVALID_CHECKSUM, INVALID_SIGNATURE (bad data); NOT_ADMITTED, IDENTITY_… (no valid fleet identity). */
  code: string;
  at: Date;
}

export interface ServeOptions {
  /** Also look for peers of the topic (agents: they fetch). Seeders only announce. @defaultValue false */
  client?: boolean;
}

interface Served {
  core: ArtifactCore;
  discovery: PeerDiscovery;
  uploaded: number;
  peersServed: Set<string>;
  lookups: NodeJS.Timeout | undefined;
  stopHave: () => void;
}

/** Pauses between lookups of a topic while its core is incomplete (hyperswarm looks again only every 10 minutes). */
const lookupPausesMs = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000];

/** Peers refused for bad data, remembered at most. */
const maxBanned = 10_000;

/**
 * One machine's presence in its region's swarm. Hyperswarm on the fleet's DHT finds the peers of
 * a build's topic and connects them (Noise, authenticated by each machine's identity key); a new
 * connection carries nothing but the admission (admission.ts) — each side's fleet certificate for
 * that key and region — and then the address and key of a TLS block connection (TCP, same port),
 * over which the cores both sides hold are exchanged (block-session.ts). A peer without a valid
 * identity is dropped before it learns where blocks are; a peer whose data fails verification is
 * dropped and refused from then on.
 */
export class RegionSwarm {
  private readonly served = new Map<string, Served>();
  private readonly sessions = new Set<BlockSession>();
  private readonly banned = new Set<string>();
  private readonly rejected: RejectedPeer[] = [];
  private readonly logger: Logger;
  private readonly uploadLimiter: RateLimiter;
  private readonly maxPeers: number;
  private readonly sessionListeners = new Set<() => void>();
  private closing = false;

  private constructor(
    readonly region: string,
    private readonly swarm: Hyperswarm,
    private readonly listener: BlockListener,
    private readonly identity: FleetIdentity,
    options: RegionSwarmOptions,
  ) {
    this.logger = (options.logger ?? silentLogger()).child({ region });
    this.uploadLimiter = options.uploadLimiter ?? new RateLimiter(null);
    this.maxPeers = options.maxPeers ?? 64;
    swarm.on('connection', (connection) => void this.onConnection(connection));
  }

  static async start(options: RegionSwarmOptions): Promise<RegionSwarm> {
    // TCP first: with port 0 the OS picks one, and the swarm's UDP socket takes the same number.
    const listener = await BlockListener.listen(options.host, options.port);
    // Fleet machines of a region reach each other directly (no NAT between them): saying so
    // skips hole punching, which between processes on one host took 20–30 s per connection.
    const dht = new HyperDHT({ bootstrap: options.bootstrap, host: options.host, port: listener.port, firewalled: false });
    try {
      await dht.ready();
    } catch (err) {
      await listener.close();
      await dht.destroy().catch(() => undefined);
      throw err;
    }
    let self: RegionSwarm | undefined;
    const swarm = new Hyperswarm({
      dht,
      keyPair: options.identity.keyPair,
      maxPeers: options.maxPeers ?? 64,
      firewall: (remotePublicKey) => self?.banned.has(remotePublicKey.toString('hex')) ?? false,
    });
    self = new RegionSwarm(options.region, swarm, listener, options.identity, options);
    return self;
  }

  /** Announces the core on the region's topic and offers it on every block session. Idempotent. */
  async serve(core: ArtifactCore, options: ServeOptions = {}): Promise<void> {
    const key = core.discoveryKey.toString('hex');
    if (this.served.has(key)) return;
    const entry: Served = {
      core,
      discovery: this.swarm.join(core.topic(this.region), { server: true, client: options.client ?? false }),
      uploaded: 0,
      peersServed: new Set(),
      lookups: undefined,
      stopHave: core.onHave((index) => {
        for (const session of this.sessions) session.have(core, index);
      }),
    };
    this.served.set(key, entry);
    for (const session of this.sessions) session.open(core);
    await entry.discovery.flushed();
    if (options.client) this.lookAgain(entry, 0);
  }

  /** Announces the core again on every session (it got its tree: peers may ask for it now). */
  reannounce(core: ArtifactCore): void {
    for (const session of this.sessions) session.open(core);
  }

  private lookAgain(entry: Served, attempt: number): void {
    entry.lookups = setTimeout(() => {
      if (this.served.get(entry.core.discoveryKey.toString('hex')) !== entry || entry.core.complete) return;
      if (this.swarm.connections.size < this.maxPeers) {
        entry.discovery.refresh({ server: true, client: true }).catch((err: Error) => this.logger.debug({ err: err.message }, 'looking the topic up again failed'));
      }
      this.lookAgain(entry, attempt + 1);
    }, lookupPausesMs[Math.min(attempt, lookupPausesMs.length - 1)]);
    entry.lookups.unref();
  }

  /** Stops announcing and offering the core. */
  async unserve(core: ArtifactCore): Promise<void> {
    const key = core.discoveryKey.toString('hex');
    const entry = this.served.get(key);
    if (!entry) return;
    this.served.delete(key);
    entry.stopHave();
    clearTimeout(entry.lookups);
    for (const session of this.sessions) session.unopen(core);
    await entry.discovery.destroy();
  }

  isServing(core: ArtifactCore): boolean {
    return this.served.has(core.discoveryKey.toString('hex'));
  }

  /** Bytes of this core's blocks uploaded to peers since it was served. */
  uploadedBytes(core: ArtifactCore): number {
    return this.served.get(core.discoveryKey.toString('hex'))?.uploaded ?? 0;
  }

  /** Peers that were sent blocks of this core since it was served. */
  peersServed(core: ArtifactCore): number {
    return this.served.get(core.discoveryKey.toString('hex'))?.peersServed.size ?? 0;
  }

  /** The admitted peers' block sessions. */
  blockSessions(): BlockSession[] {
    return [...this.sessions].filter((session) => !session.isClosed);
  }

  /** Calls `listener` whenever a block session opens or closes. */
  onSessions(listener: () => void): () => void {
    this.sessionListeners.add(listener);
    return () => this.sessionListeners.delete(listener);
  }

  /** This machine's public key in the swarm (hex): how peers see and name it. */
  get peerKey(): string {
    return this.swarm.keyPair.publicKey.toString('hex');
  }

  /** Admitted peers with a block session. */
  get connections(): number {
    return this.blockSessions().length;
  }

  /** Peers refused (bad data, or no fleet identity), oldest first. */
  rejectedPeers(): RejectedPeer[] {
    return [...this.rejected];
  }

  /** Drops a peer that sent data failing verification, and refuses it from now on. */
  reject(peer: string, core: ArtifactCore, code: string, why: string): void {
    if (!this.banned.has(peer)) {
      if (this.banned.size >= maxBanned) this.banned.delete(this.banned.values().next().value!);
      this.banned.add(peer);
      this.note({ peer, build: core.build.build, code, at: new Date() });
      this.logger.warn(
        { peer, build: core.build.build, service: core.build.service, code },
        `peer ${peer.slice(0, 12)} sent data of build ${core.build.build} that failed verification (${why}): it is dropped and refused from now on`,
      );
    }
    this.swarm.peers.get(peer)?.ban(true);
    for (const session of this.sessions) if (session.peer === peer) session.close();
    for (const connection of this.swarm.connections) if (connection.remotePublicKey.toString('hex') === peer) connection.destroy();
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const entry of [...this.served.values()]) await this.unserve(entry.core);
    for (const session of [...this.sessions]) session.close();
    await this.swarm.destroy();
    await this.listener.close();
  }

  private note(rejected: RejectedPeer): void {
    this.rejected.push(rejected);
    if (this.rejected.length > 100) this.rejected.shift();
  }

  private async onConnection(connection: SwarmConnection): Promise<void> {
    const peer = connection.remotePublicKey.toString('hex');
    // A reset connection is ordinary on a network; what matters is logged where it matters.
    connection.on('error', (err: Error) => this.logger.debug({ peer, err: err.message }, 'P2P connection failed'));
    if (this.banned.has(peer) || this.closing) return connection.destroy();
    let taken: Promise<import('node:tls').TLSSocket> | undefined;
    const admission = await admit(connection, {
      certificate: this.identity.certificate,
      keyring: this.identity.keyring,
      region: this.region,
      offer: connection.isInitiator
        ? undefined
        : () => {
            let resolve!: (socket: import('node:tls').TLSSocket) => void;
            taken = new Promise((r) => (resolve = r));
            return this.listener.offer(peer, resolve);
          },
    });
    if (!admission.ok) {
      this.note({ peer, build: null, code: admission.code, at: new Date() });
      this.logger.warn({ peer, code: admission.code }, `refused P2P peer ${peer.slice(0, 12)}: ${admission.reason}`);
      this.swarm.peers.get(peer)?.ban(true);
      return connection.destroy();
    }
    let socket: import('node:tls').TLSSocket;
    try {
      socket = taken ? await withTimeout(taken, 15_000) : await BlockListener.connect(admission.offer!);
    } catch (err) {
      this.logger.debug({ peer, err: (err as Error).message }, 'the block connection to an admitted peer failed');
      return connection.destroy();
    }
    if (this.closing || connection.destroyed) {
      socket.destroy();
      return;
    }
    const session = new BlockSession({
      peer,
      socket,
      uploadLimiter: this.uploadLimiter,
      served: (key) => this.served.get(key)?.core,
      onUpload: (core, bytes) => {
        const entry = this.served.get(core.discoveryKey.toString('hex'));
        if (!entry) return;
        entry.uploaded += bytes;
        entry.peersServed.add(peer);
      },
      onClose: () => {
        this.sessions.delete(session);
        connection.destroy();
        for (const listener of this.sessionListeners) listener();
      },
    });
    connection.once('close', () => session.close());
    this.sessions.add(session);
    for (const { core } of this.served.values()) session.open(core);
    for (const listener of this.sessionListeners) listener();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no block connection within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err as Error);
      },
    );
  });
}
