import Hypercore from 'hypercore';
import { FleetcastError } from '../../errors/index.ts';
import { blockCount, type CoreKeyPair } from '../../goalstate/index.ts';
import { regionTopic } from './region-topic.ts';
import { duplicateOnlyStuckRequests, stuckRequestMs } from './stuck-requests.ts';

/** The fields of a goal (or of a bucket listing) that name one build's core. */
export interface CoreBuild {
  service: string;
  build: string;
  /** sha256 of the artifact, hex. */
  digest: string;
  size: number;
  /** The signer's public key, hex (the goal's `p2pKey`). */
  p2pKey: string;
}

/**
 * Requests in flight to one peer (Hypercore's default is [16, 512]). Hypercore does not move a
 * request away from a slow peer, so 16 requests parked at a busy seeder stall a machine while
 * its neighbours hold those blocks; 2 per peer (more on slow links: Hypercore scales it with the
 * round trip) spreads the window over the peers. Measured here, 4 machines, a 16 MiB build, a
 * 4 MiB/s seeder: 16 → 7.8–13.3 s, 4 → 7.2–15.9 s, 2 → 5.5–6.8 s (ideal 4 s).
 */
const inflightRange: [number, number] = [2, 512];

/**
 * RocksDB memtable of a core's storage. Blocks pass through it before they reach the blob
 * files, and hypercore-storage's default (64 MiB, two at once) held up to 128 MiB per open core
 * in every agent and seeder. Measured here, a bare process appending to one core: 256 MiB gave
 * 207 MiB peak RSS with the default; with 4 MiB, 131 MiB (and 134 MiB for 1 GiB: it no longer
 * grows with the artifact; 69 MiB with nothing appended). 4 MiB holds four 1 MiB blocks.
 */
const writeBufferSize = 4 * 1024 * 1024;

export interface ArtifactCoreOptions {
  /** A request in flight this long may be sent to another peer too (stuck-requests.ts). @defaultValue 10 s */
  stuckRequestMs?: number;
}

/** Set in a core's local user data once its blocks were checked against the build's sha256. */
const verifiedKey = 'fleetcast-verified';

/**
 * One build's Hypercore, stored in its own directory. The core's key is that of a single-signer
 * manifest whose signer is the goal's `p2pKey`, so whoever knows the goal can open, verify and
 * download it, and only holders of the cluster secret (seeders) can write it.
 */
export class ArtifactCore {
  private constructor(
    readonly build: CoreBuild,
    readonly dir: string,
    readonly hypercore: Hypercore,
    private readonly signer: Buffer,
  ) {}

  /**
   * Opens (or creates) the core in `dir`. With `keyPair` the core is writable (a seeder);
   * without, it is a replica that only accepts blocks signed by the build's key.
   */
  static async open(dir: string, build: CoreBuild, keyPair?: CoreKeyPair, options: ArtifactCoreOptions = {}): Promise<ArtifactCore> {
    const signer = Buffer.from(build.p2pKey, 'hex');
    if (keyPair && !keyPair.publicKey.equals(signer)) {
      throw new FleetcastError('CONFIG_INVALID', `build ${build.build} (${build.service}): its P2P key ${build.p2pKey} is not the key this cluster secret gives its digest; give this seeder the coordinator's FLEETCAST_SECRET`, {
        build: build.build,
        p2pKey: build.p2pKey,
      });
    }
    const storage = Hypercore.defaultStorage(dir, { writeBufferSize });
    const hypercore = keyPair ? new Hypercore(storage, { keyPair, inflightRange }) : new Hypercore(storage, Hypercore.key(signer), { inflightRange });
    try {
      await hypercore.ready();
    } catch (err) {
      await hypercore.close().catch(() => undefined);
      throw new FleetcastError('INTERNAL', `cannot open the core of build ${build.build} (${build.service}) in ${dir}: ${(err as Error).message}; another fleetcast process may be using that directory`, { dir, build: build.build }, { cause: err });
    }
    try {
      duplicateOnlyStuckRequests(hypercore, options.stuckRequestMs ?? stuckRequestMs);
    } catch (err) {
      await hypercore.close();
      throw err;
    }
    if (!hypercore.key.equals(Hypercore.key(signer))) {
      await hypercore.close();
      throw new FleetcastError('INTERNAL', `${dir} holds another core than that of build ${build.build}; remove the directory`, { dir, build: build.build });
    }
    return new ArtifactCore(build, dir, hypercore, signer);
  }

  /** The core's key (hex): what peers replicate it by. */
  get key(): string {
    return this.hypercore.key.toString('hex');
  }

  /** Blocks the complete core has. */
  get blocks(): number {
    return blockCount(this.build.size);
  }

  /** Whether every block is stored here. */
  get complete(): boolean {
    return this.hypercore.length === this.blocks && this.hypercore.contiguousLength === this.blocks;
  }

  /** The Hyperswarm topic of this core in `region`. */
  topic(region: string): Buffer {
    return regionTopic(this.signer, region);
  }

  /** Whether the whole artifact was assembled from this core and matched the build's sha256. */
  async isVerified(): Promise<boolean> {
    const value = await this.hypercore.getUserData(verifiedKey);
    return value !== null && value.toString() === this.build.digest && this.complete;
  }

  async markVerified(): Promise<void> {
    await this.hypercore.setUserData(verifiedKey, this.build.digest);
  }

  async close(): Promise<void> {
    await this.hypercore.close();
  }
}
