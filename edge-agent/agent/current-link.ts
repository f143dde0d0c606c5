import fsp from 'node:fs/promises';
import path from 'node:path';
import { syncDir } from './durable-json.ts';
import { isBuildId } from './agent-layout.ts';

/**
 * The `current` symlink of a service: `current → builds/<build>`. Relative, so an agent dir can
 * be moved. Replaced atomically (a new link beside it, then renamed over): a reader, or a crash,
 * sees the old build or the new one, never no link.
 */
export class CurrentLink {
  constructor(private readonly link: string) {}

  /** The build `current` points at, or null when there is none (or it is not a link of ours). */
  async read(): Promise<string | null> {
    let target: string;
    try {
      target = await fsp.readlink(this.link);
    } catch {
      return null;
    }
    const build = path.basename(target);
    return path.dirname(target) === 'builds' && isBuildId(build) ? build : null;
  }

  async point(build: string): Promise<void> {
    if (!isBuildId(build)) throw new Error(`not a build id: ${build}`);
    const temp = `${this.link}.${process.pid}.tmp`;
    await fsp.rm(temp, { force: true });
    await fsp.symlink(path.join('builds', build), temp);
    await fsp.rename(temp, this.link);
    await syncDir(path.dirname(this.link));
  }

  async remove(): Promise<void> {
    await fsp.rm(this.link, { force: true });
    await syncDir(path.dirname(this.link)).catch(() => undefined);
  }
}
