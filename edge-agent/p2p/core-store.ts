import fsp from 'node:fs/promises';
import path from 'node:path';
import { FleetcastError } from '../../errors/index.ts';
import { ArtifactCore, type CoreBuild } from './artifact-core.ts';
import type { CoreKeyPair } from '../../goalstate/index.ts';

const keyPattern = /^[0-9a-f]{64}$/;

/**
 * The cores of one machine (a seeder's, or an agent's), one directory each under `root`, named
 * by the build's P2P key: `<root>/<p2pKey>/` (its tree and records; a seeder's artifact too). A
 * core is opened once per process and shared by whoever asks for it.
 */
export class CoreStore {
  private readonly opened = new Map<string, Promise<ArtifactCore>>();
  private readonly ready = new Map<string, ArtifactCore>();

  constructor(readonly root: string) {}

  dir(p2pKey: string): string {
    if (!keyPattern.test(p2pKey)) {
      throw new FleetcastError('INVALID_INPUT', `"${p2pKey}" is not a P2P key (64 lower-case hex digits)`, { p2pKey });
    }
    return path.join(this.root, p2pKey);
  }

  /** The build's core, opened once; `keyPair` makes it writable (seeders). */
  open(build: CoreBuild, keyPair?: CoreKeyPair): Promise<ArtifactCore> {
    const existing = this.opened.get(build.p2pKey);
    if (existing) return existing;
    const opening = fsp
      .mkdir(this.root, { recursive: true })
      .then(() => ArtifactCore.open(this.dir(build.p2pKey), build, keyPair));
    this.opened.set(build.p2pKey, opening);
    opening.then(
      (core) => {
        if (this.opened.get(build.p2pKey) === opening) this.ready.set(build.p2pKey, core);
      },
      () => this.opened.delete(build.p2pKey),
    );
    return opening;
  }

  /** The core if it is open and ready. */
  get(p2pKey: string): ArtifactCore | undefined {
    return this.ready.get(p2pKey);
  }

  /** The cores this process has open. */
  async openCores(): Promise<ArtifactCore[]> {
    const settled = await Promise.allSettled(this.opened.values());
    return settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  }

  isOpen(p2pKey: string): boolean {
    return this.opened.has(p2pKey);
  }

  /** P2P keys of the cores stored under the root, open or not. */
  async stored(): Promise<string[]> {
    const entries = await fsp.readdir(this.root, { withFileTypes: true }).catch(() => []);
    return entries.filter((entry) => entry.isDirectory() && keyPattern.test(entry.name)).map((entry) => entry.name);
  }

  exists(p2pKey: string): Promise<boolean> {
    return present(this.dir(p2pKey));
  }

  /**
   * Whether the core is an unfinished fetch whose blocks are still in their file: a fetch cut
   * short (a kill -9, a restart) resumes from it, even before the agent knows its goal again.
   */
  async unfinished(p2pKey: string): Promise<boolean> {
    const dir = this.dir(p2pKey);
    if (await present(path.join(dir, 'verified'))) return false;
    const file = await fsp.readFile(path.join(dir, 'file'), 'utf8').catch(() => null);
    return file !== null && (await present(file));
  }

  /** Closes the core, keeping its data (a later open resumes it). */
  async release(p2pKey: string): Promise<void> {
    const opening = this.opened.get(p2pKey);
    if (!opening) return;
    this.opened.delete(p2pKey);
    this.ready.delete(p2pKey);
    const core = await opening.catch(() => undefined);
    await core?.close();
  }

  /** Closes the core and deletes its data. */
  async drop(p2pKey: string): Promise<void> {
    await this.release(p2pKey);
    await fsp.rm(this.dir(p2pKey), { recursive: true, force: true });
  }

  async close(): Promise<void> {
    await Promise.all([...this.opened.keys()].map((key) => this.release(key)));
  }
}

function present(file: string): Promise<boolean> {
  return fsp.stat(file).then(
    () => true,
    () => false,
  );
}
