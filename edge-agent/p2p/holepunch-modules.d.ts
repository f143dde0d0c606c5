// Type declarations for the Holepunch modules fleetcast uses; only the parts it calls. The
// packages ship no types; what is declared here was read from their sources (hypercore 11.37,
// hyperswarm 4.17, hyperdht 6.34). Members marked "internal" are not public API of the package:
// fleetcast relies on them in one place each, named in the comment.
declare module 'hypercore-crypto' {
  export function keyPair(seed?: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array };
  export function discoveryKey(publicKey: Uint8Array): Uint8Array;
  const api: { keyPair: typeof keyPair; discoveryKey: typeof discoveryKey };
  export default api;
}

declare module 'hyperdht' {
  import type { EventEmitter } from 'node:events';

  export interface DhtNodeAddress {
    host: string;
    port: number;
  }

  export interface HyperDHTOptions {
    /** Nodes to join the DHT through; `[]` makes this node the first one (a bootstrap node). */
    bootstrap?: DhtNodeAddress[];
    /** Address the UDP socket binds to. @defaultValue 0.0.0.0 */
    host?: string;
    /** @defaultValue 49737 */
    port?: number;
    /** Bind any free port when `port` is taken. */
    anyPort?: boolean;
    /** false: store routing and announcement records for others (bootstrap and helper nodes). */
    ephemeral?: boolean;
    /** false: reachable by anyone, no hole punching needed. */
    firewalled?: boolean;
  }

  export default class HyperDHT extends EventEmitter {
    constructor(options?: HyperDHTOptions);
    ready(): Promise<void>;
    fullyBootstrapped(): Promise<void>;
    address(): { host: string; port: number; family: number };
    destroy(options?: { force?: boolean }): Promise<void>;
  }
}

declare module 'hyperswarm' {
  import type { EventEmitter } from 'node:events';
  import type HyperDHT from 'hyperdht';

  /** An end-to-end encrypted connection (a NoiseSecretStream, a streamx Duplex). */
  export interface SwarmConnection extends EventEmitter {
    readonly remotePublicKey: Buffer;
    readonly publicKey: Buffer;
    readonly rawBytesWritten: number;
    readonly rawBytesRead: number;
    /** Whether this side dialed the connection. */
    readonly isInitiator: boolean;
    destroyed: boolean;
    /** Sends one message (the connection keeps message boundaries). */
    write(data: Buffer): boolean;
    destroy(error?: Error): void;
  }

  export interface PeerInfo {
    readonly publicKey: Buffer;
    readonly topics: Buffer[];
    readonly client: boolean;
    /** Stops reconnecting to this peer (it does not close a connection). */
    ban(banned?: boolean): void;
  }

  export interface PeerDiscovery {
    /** Resolves once the topic is announced (server mode). */
    flushed(): Promise<void>;
    /** Announces again and looks the topic up again now (hyperswarm itself does every 10 min). */
    refresh(options?: { server?: boolean; client?: boolean }): Promise<void>;
    destroy(): Promise<void>;
  }

  export interface HyperswarmOptions {
    dht?: HyperDHT;
    /** The Noise static key pair of this machine's connections. */
    keyPair?: { publicKey: Buffer; secretKey: Buffer };
    /** @defaultValue 64 */
    maxPeers?: number;
    /** true rejects the connection. */
    firewall?: (remotePublicKey: Buffer) => boolean;
  }

  export default class Hyperswarm extends EventEmitter {
    constructor(options?: HyperswarmOptions);
    readonly connections: Set<SwarmConnection>;
    readonly peers: Map<string, PeerInfo>;
    readonly connecting: number;
    readonly keyPair: { publicKey: Buffer; secretKey: Buffer };
    readonly dht: HyperDHT;
    join(topic: Buffer, options?: { server?: boolean; client?: boolean }): PeerDiscovery;
    leave(topic: Buffer): Promise<void>;
    flush(): Promise<boolean>;
    destroy(options?: { force?: boolean }): Promise<void>;
    on(event: 'connection', listener: (connection: SwarmConnection, info: PeerInfo) => void): this;
    on(event: 'update', listener: () => void): this;
  }
}

declare module 'hypercore' {
  import type { EventEmitter } from 'node:events';
  import type { SwarmConnection } from 'hyperswarm';

  /** What a peer asks for: a block (with proof), or only tree nodes, a seek, an upgrade. */
  export interface HypercoreRequest {
    id: number;
    block: { index: number; nodes: number } | null;
  }

  /** A remote peer of one core, on one connection (hypercore's replicator Peer). */
  export interface HypercorePeer {
    readonly remotePublicKey: Buffer;
    /** The connection this peer replicates over. */
    readonly stream: SwarmConnection;
    /** internal: whether the connection took everything written so far. */
    readonly protomux: { readonly drained: boolean };
    /** internal: answers a request of the remote (reads the block, sends it). The upload gate wraps it (upload-gate.ts). */
    onrequest(request: HypercoreRequest): Promise<void> | void;
    /** internal: the remote withdrew request `request`. */
    oncancel(message: { request: number }): void;
    /** internal: blocks 0… the remote holds without a gap. */
    readonly remoteContiguousLength: number;
    /** internal: whether the remote said it holds block `index`. */
    _remoteHasBlock(index: number): boolean;
    /** internal: this machine's requests in flight to the peer. */
    readonly inflight: number;
    /** internal: requests sent to this peer at most at once (inflightRange, scaled by the round trip). */
    getMaxInflight(): number;
  }

  export interface DownloadRange {
    done(): Promise<void>;
    destroy(): void;
  }

  export interface HypercoreOptions {
    /** Signing key pair: the core is writable by whoever has the secret key. */
    keyPair?: { publicKey: Uint8Array; secretKey: Uint8Array };
    /** @defaultValue true */
    createIfMissing?: boolean;
    /** @defaultValue true when a key pair with a secret key is given */
    writable?: boolean;
    /** Requests in flight to one peer: [at low latency, at most]. @defaultValue [16, 512] */
    inflightRange?: [number, number];
    /** How long (ms) a finished download keeps its connections busy. @defaultValue 20–40 s */
    notDownloadingLinger?: number;
  }

  /** Error codes Hypercore gives rejected data: `INVALID_SIGNATURE`, `INVALID_CHECKSUM`, `INVALID_PROOF`… */
  export interface HypercoreError extends Error {
    code?: string;
  }

  /** A core's RocksDB storage (hypercore-storage), opened by Hypercore.defaultStorage. */
  export interface HypercoreStorage {
    readonly path: string;
  }

  export interface HypercoreStorageOptions {
    /** Bytes of RocksDB memtable before it is flushed (two may be held at once). @defaultValue 64 MiB */
    writeBufferSize?: number;
  }

  export default class Hypercore extends EventEmitter {
    constructor(storage: string | HypercoreStorage, key: Uint8Array | null, options?: HypercoreOptions);
    constructor(storage: string | HypercoreStorage, options?: HypercoreOptions);
    /** The storage Hypercore opens for a directory, with RocksDB options. */
    static defaultStorage(directory: string, options?: HypercoreStorageOptions): HypercoreStorage;
    /** The core key of a single signer's default manifest (what a core created with its key pair gets). */
    static key(signerPublicKey: Uint8Array): Buffer;
    readonly key: Buffer;
    readonly discoveryKey: Buffer;
    readonly length: number;
    readonly byteLength: number;
    readonly contiguousLength: number;
    readonly writable: boolean;
    readonly closed: boolean;
    readonly peers: HypercorePeer[];
    ready(): Promise<void>;
    append(blocks: Uint8Array | Uint8Array[]): Promise<{ length: number; byteLength: number }>;
    get(index: number, options?: { wait?: boolean; timeout?: number }): Promise<Buffer | null>;
    has(start: number, end?: number): Promise<boolean>;
    /** Asks the peers for a longer signed length; `wait`: even when none answered yet. */
    update(options?: { wait?: boolean }): Promise<boolean>;
    download(range: { start: number; end: number; linear?: boolean }): DownloadRange;
    treeHash(length?: number): Promise<Buffer>;
    setUserData(key: string, value: string | Uint8Array): Promise<void>;
    getUserData(key: string): Promise<Buffer | null>;
    replicate(connection: SwarmConnection): unknown;
    close(): Promise<void>;
    on(event: 'append' | 'close', listener: () => void): this;
    on(event: 'peer-add' | 'peer-remove', listener: (peer: HypercorePeer) => void): this;
    on(event: 'download' | 'upload', listener: (index: number, byteLength: number, from: HypercorePeer) => void): this;
    on(event: 'verification-error', listener: (error: HypercoreError, request: unknown, data: unknown, from: HypercorePeer) => void): this;
    off(event: string, listener: (...args: never[]) => void): this;
    /**
     * internal: the core's storage. Used by tests only, to tamper with a peer's stored blocks
     * (a lying peer) without touching its signed Merkle tree.
     */
    readonly state: { storage: { write(): { putBlock(index: number, data: Uint8Array): void; flush(): Promise<void> } } };
  }
}
