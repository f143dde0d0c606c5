import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { artifactObjectName, FsBlobStore, regionBucketName } from '../../blobstore/index.ts';
import crypto from 'node:crypto';
import { generateSigningKey, issueP2PIdentity, VerifyingKeyring, type P2PIdentity, type SigningKey } from '../../trust/index.ts';
import {
  BlockTree,
  CoreStore,
  DhtBootstrap,
  fillCoreFromBlob,
  fleetIdentity,
  type FleetIdentity,
  loadSeederConfig,
  P2PFetcher,
  RateLimiter,
  RegionSwarm,
  runSeeder,
  type ArtifactCore,
  type P2PFetcherOptions,
  type SeederHandle,
} from '../../edge-agent/index.ts';
import { blockCount, blockLength, coreBlockSize, coreKey, coreKeyPair, type GoalContent } from '../../goalstate/index.ts';
import { leafHash as leafOf } from '../../edge-agent/p2p/hypercore-tree.ts';
import { sampleGoal } from './sample-goal.ts';
import { testGoalKeys, type TestGoalKeys } from './goal-keys.ts';
import { silentLogger } from '../../logging/index.ts';

/** A build's artifact: its bytes live in a file of the testbed, its copy in the regional bucket. */
export interface TestArtifact {
  goal: GoalContent;
  file: string;
  sha256: string;
  size: number;
}

/**
 * What a P2P test needs, isolated: a temp directory, a DHT bootstrap on an OS-chosen port, the
 * cluster secret, regional fs buckets under the temp dir, and factories for fetchers and seeders
 * that close() stops (even when an assertion failed first).
 */
export class P2PTestbed {
  readonly secret = randomBytes(32).toString('hex');
  /** The fleet's P2P CA: every machine of the testbed gets an identity it signed. */
  readonly ca: SigningKey = makeCa();
  private readonly closers: (() => Promise<void>)[] = [];
  private builds = 0;

  private constructor(
    readonly dir: string,
    readonly dht: DhtBootstrap,
    /** The coordinator's goal-signing key; seeders trust its public key file. */
    readonly keys: TestGoalKeys,
  ) {}

  static async start(): Promise<P2PTestbed> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-p2p-'));
    const dht = await DhtBootstrap.start({ host: '127.0.0.1', port: 0 });
    return new P2PTestbed(dir, dht, testGoalKeys(path.join(dir, 'keys')));
  }

  get bucketsDir(): string {
    return path.join(this.dir, 'buckets');
  }

  /** A regional bucket, as the seeders of `region` open it. */
  async regionStore(region: string): Promise<FsBlobStore> {
    const store = await FsBlobStore.open({ root: this.bucketsDir, bucket: regionBucketName(region), fsync: false });
    this.closers.push(() => store.close());
    return store;
  }

  /**
   * A build of `size` random bytes of `service`, put into the bucket of `region`, with the goal
   * the coordinator would write for it (p2pKey from the testbed's secret).
   */
  async artifact(service: string, region: string, size: number, overrides: Partial<GoalContent> = {}): Promise<TestArtifact> {
    const n = ++this.builds + 100;
    const file = path.join(this.dir, `artifact-${service}-b${n}`);
    writeRandomFile(file, size);
    const sha256 = await sha256File(file);
    const store = await this.regionStore(region);
    const artifact = artifactObjectName(service, n, sha256);
    await store.put(artifact, fs.createReadStream(file), { sha256, size });
    const goal = sampleGoal(service, region, n, { digest: sha256, size, artifact, p2pKey: coreKey(this.secret, sha256), fileName: service, ...overrides });
    return { goal, file, sha256, size };
  }

  /** The keyring of the testbed's P2P CA key (what FLEETCAST_P2P_CA_KEYS names). */
  get caKeys(): string {
    return this.ca.publicKey;
  }

  /** An identity file's contents for a machine of `region`, signed by `ca` (the testbed's by default). */
  issue(role: 'agent' | 'seeder', region: string, machine: string | null, options: { ca?: SigningKey; notAfter?: Date } = {}): P2PIdentity {
    return issueP2PIdentity({ role, region, machine, notAfter: options.notAfter ?? new Date(Date.now() + 3_600_000) }, options.ca ?? this.ca);
  }

  /** A machine's identity as its swarm uses it, trusting the testbed's CA. */
  identity(role: 'agent' | 'seeder', region: string, machine: string | null, options: { ca?: SigningKey; notAfter?: Date } = {}): FleetIdentity {
    const issued = this.issue(role, region, machine, options);
    // A foreign or expired identity is what a test wants to see refused by the others: build it unchecked.
    if (options.ca || options.notAfter) return unchecked(issued, new VerifyingKeyring(this.caKeys, { setting: 'FLEETCAST_P2P_CA_KEYS' }));
    return fleetIdentity(issued, new VerifyingKeyring(this.caKeys, { setting: 'FLEETCAST_P2P_CA_KEYS' }), region);
  }

  /** Writes an identity file for a process (FLEETCAST_P2P_IDENTITY). */
  identityFile(role: 'agent' | 'seeder', region: string, machine: string): string {
    const file = path.join(this.dir, 'identities', `${region}-${machine}.json`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(this.issue(role, region, machine)), { mode: 0o600 });
    return file;
  }

  /** A P2P fetcher (one machine) of `region` with its own storage under the testbed. */
  async fetcher(name: string, region: string, options: Partial<P2PFetcherOptions> = {}): Promise<P2PFetcher> {
    const fetcher = await P2PFetcher.start({
      region,
      storageDir: path.join(this.dir, 'machines', name, 'cores'),
      bootstrap: this.dht.bootstrap,
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger(),
      identity: this.identity('agent', region, name),
      ...options,
    });
    this.closers.push(() => fetcher.close());
    return fetcher;
  }

  /** Where machine `name` would put a build's file. */
  destination(name: string, goal: GoalContent): string {
    return path.join(this.dir, 'machines', name, 'builds', goal.build, goal.fileName);
  }

  /** The FLEETCAST_* settings of a seeder of `region` watching the leaf at `natsUrl`. */
  seederEnv(name: string, region: string, natsUrl: string, env: Record<string, string> = {}): Record<string, string> {
    return {
      // The data dir holds the buckets: every seeder reads the testbed's.
      FLEETCAST_DATA_DIR: this.dir,
      FLEETCAST_REGION: region,
      FLEETCAST_NATS_URL: natsUrl,
      FLEETCAST_GOAL_PUBLIC_KEYS: this.keys.publicFile,
      FLEETCAST_SECRET: this.secret,
      FLEETCAST_DHT_BOOTSTRAP: this.dht.listen,
      FLEETCAST_SEEDER_DIR: path.join(this.dir, 'seeders', name, 'cores'),
      FLEETCAST_P2P_IDENTITY: this.identityFile('seeder', region, name),
      FLEETCAST_P2P_CA_KEYS: this.caKeys,
      FLEETCAST_P2P_HOST: '127.0.0.1',
      FLEETCAST_P2P_PORT: '0',
      ...env,
    };
  }

  /** A seeder in this process, through the same runSeeder as `fleetcast seeder`. */
  async seeder(name: string, region: string, natsUrl: string, env: Record<string, string> = {}): Promise<SeederHandle> {
    const config = loadSeederConfig({ env: this.seederEnv(name, region, natsUrl, env) });
    const handle = await runSeeder(config, { logger: silentLogger(), retryMs: 200 });
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      await handle.stop();
    };
    this.closers.push(stop);
    return { ...handle, stop };
  }

  /** Runs `close` when the testbed closes (before the DHT stops), last registered first. */
  onClose(close: () => Promise<void>): void {
    this.closers.push(close);
  }

  async close(): Promise<void> {
    for (const close of this.closers.reverse()) await close().catch(() => undefined);
    await this.dht.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export function writeRandomFile(file: string, size: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  try {
    for (let written = 0; written < size; ) {
      const chunk = randomBytes(Math.min(4 << 20, size - written));
      fs.writeSync(fd, chunk);
      written += chunk.length;
    }
  } finally {
    fs.closeSync(fd);
  }
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A machine serving one build's core outside any seeder: honest, or lying in the ways a test picks. */
export interface ServingPeer {
  swarm: RegionSwarm;
  core: ArtifactCore;
  /** Its swarm key (hex), as fetchers name it in rejectedPeers. */
  peerKey: string;
  uploadedBytes(): number;
}

export interface ServingPeerOptions {
  /** Bytes per second it uploads at most. @defaultValue no limit */
  uploadLimit?: number;
  /**
   * 'tampered': its stored blocks were overwritten with garbage after the core was made (its
   * signed Merkle tree is intact): it serves bad blocks with good proofs.
   * 'signed-other-bytes': it holds the cluster secret and signed other bytes of the same size under
   * the build's key (a compromised seeder): every block verifies, the file does not.
   * 'silent': it holds the whole build and says so, but never answers a block request.
   */
  lie?: 'tampered' | 'signed-other-bytes' | 'silent';
  /** @defaultValue a seeder identity of the testbed's CA for the region */
  identity?: FleetIdentity;
}

export async function servingPeer(testbed: P2PTestbed, name: string, region: string, artifact: TestArtifact, options: ServingPeerOptions = {}): Promise<ServingPeer> {
  const cores = new CoreStore(path.join(testbed.dir, 'peers', name));
  const build = { service: artifact.goal.service, build: artifact.goal.build, digest: artifact.sha256, size: artifact.size, p2pKey: artifact.goal.p2pKey! };
  const keyPair = coreKeyPair(testbed.secret, artifact.sha256);
  const core = await cores.open(build, keyPair);
  if (options.lie === 'signed-other-bytes') {
    // Holds the cluster secret and signs a tree of other bytes of the build's size.
    await core.useFile(path.join(core.dir, 'data'));
    const leaves: Buffer[] = [];
    for (let index = 0; index < blockCount(artifact.size); index++) {
      const block = randomBytes(blockLength(index, artifact.size));
      leaves.push(leafOf(block));
      await core.writeBlock(index, block);
    }
    await core.setTree(BlockTree.sign(artifact.size, Buffer.concat(leaves), keyPair));
    await core.holdAll();
  } else {
    await fillCoreFromBlob(core, await testbed.regionStore(region), artifact.goal.artifact);
  }
  if (options.lie === 'tampered') {
    // Garbage over every stored block; its signed tree is intact.
    const file = fs.openSync(core.dataFile!, 'r+');
    for (let index = 0; index < core.blocks; index++) fs.writeSync(file, randomBytes(blockLength(index, artifact.size)), 0, blockLength(index, artifact.size), index * coreBlockSize);
    fs.closeSync(file);
  }
  if (options.lie === 'silent') core.readBlock = () => new Promise<Buffer>(() => undefined);
  const swarm = await RegionSwarm.start({ region, bootstrap: testbed.dht.bootstrap, identity: options.identity ?? testbed.identity('seeder', region, name), host: '127.0.0.1', port: 0, uploadLimiter: new RateLimiter(options.uploadLimit ?? null) });
  await swarm.serve(core);
  testbed.onClose(async () => {
    await swarm.close();
    await cores.close();
  });
  return { swarm, core, peerKey: swarm.peerKey, uploadedBytes: () => swarm.uploadedBytes(core) };
}

function makeCa(): SigningKey {
  const { privatePem, publicKey } = generateSigningKey();
  return { keyId: new VerifyingKeyring(publicKey).keyIds()[0]!, privateKey: crypto.createPrivateKey(privatePem), publicKey };
}

/** A fresh CA no fleet machine trusts. */
export function strangerCa(): SigningKey {
  return makeCa();
}

function unchecked(identity: P2PIdentity, keyring: VerifyingKeyring): FleetIdentity {
  const { secretKey, ...certificate } = identity;
  return { keyPair: { publicKey: Buffer.from(identity.publicKey, 'hex'), secretKey: Buffer.from(secretKey, 'hex') }, certificate, keyring };
}
