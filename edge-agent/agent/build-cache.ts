import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { digestMismatch } from '../../blobstore/index.ts';
import { goalContentSchema, type GoalContent } from '../../goalstate/index.ts';
import type { Logger } from '../../logging/index.ts';
import { isBuildId, type AgentLayout } from './agent-layout.ts';
import { readJson, syncDir, writeJsonDurably } from './durable-json.ts';

/**
 * The mark of a verified build: the goal it was installed for (run command, P2P key, digest)
 * and the artifact's size and mtime when its sha256 was checked. A file whose size or mtime
 * changed since is hashed again before it is trusted; an unmarked file never is.
 */
const markerSchema = z.object({
  v: z.literal(1),
  // What the build was installed for; marks of older agents hold unsigned (version-1) goals, read the same way.
  goal: goalContentSchema,
  size: z.number().int().nonnegative(),
  mtimeNs: z.string(),
  verifiedAt: z.string(),
  /** Last time the build was installed or became current: the cache keeps the most recent. */
  usedAt: z.string(),
  /** Where its bytes came from when it was fetched (absent in marks of older agents). */
  fetched: z.object({ fromPeers: z.number().int().nonnegative(), fromBucket: z.number().int().nonnegative() }).optional(),
});

type Marker = z.infer<typeof markerSchema>;

/** A verified build on this machine. */
export interface InstalledBuild {
  goal: GoalContent;
  /** The artifact, `<build dir>/<fileName>`. */
  file: string;
  dir: string;
  usedAt: Date;
  /** Bytes that came from peers and from the regional bucket when it was fetched; null if not recorded. */
  fetched: { fromPeers: number; fromBucket: number } | null;
}

export interface CollectOptions {
  /** Builds that stay whatever else holds: the running one, the goal's, one being switched to. */
  protect: ReadonlySet<string>;
  /** Verified builds kept, the protected ones included (FLEETCAST_AGENT_CACHE_BUILDS). */
  keep: number;
  /** Below this much free disk, cached builds go oldest first (FLEETCAST_AGENT_MIN_FREE_DISK). */
  minFreeBytes: number;
}

/**
 * The builds of each service kept in `<service>/builds/`: which are verified, installing a
 * downloaded file (rename, then mark), and garbage collection.
 */
export class BuildCache {
  constructor(
    private readonly layout: AgentLayout,
    private readonly logger: Logger,
  ) {}

  /**
   * The verified build, if this machine has it. A marked file that changed since it was
   * marked is hashed again (and removed if it no longer matches).
   */
  async installed(service: string, build: string): Promise<InstalledBuild | undefined> {
    const marker = await readJson(this.layout.marker(service, build), markerSchema);
    if (!marker || marker.goal.service !== service || marker.goal.build !== build) return undefined;
    const file = this.layout.artifact(service, build, marker.goal.fileName);
    const stat = await fsp.stat(file, { bigint: true }).catch(() => undefined);
    if (stat && Number(stat.size) === marker.size && String(stat.mtimeNs) === marker.mtimeNs) return this.toInstalled(marker);
    if (!stat) {
      this.logger.warn({ service, build, file }, 'a verified build lost its artifact; removing what is left of it');
      await this.remove(service, build);
      return undefined;
    }
    this.logger.warn({ service, build, file }, 'the artifact changed since it was verified; hashing it again');
    if ((await hashFile(file)) !== marker.goal.digest) {
      this.logger.error({ service, build, file }, 'the artifact no longer matches its digest; removing it');
      await this.remove(service, build);
      return undefined;
    }
    return this.mark(marker.goal, marker.usedAt, marker.fetched);
  }

  /**
   * The build of `goal`, if verified here with the goal's digest. An artifact left unmarked by
   * a crash between its rename and its mark is hashed and marked. A build dir holding another
   * digest under the same build id is removed — or, when `keepOnConflict` (it is running),
   * reported as DIGEST_MISMATCH and left alone.
   */
  async installedFor(goal: GoalContent, keepOnConflict: boolean): Promise<InstalledBuild | undefined> {
    const found = await this.installed(goal.service, goal.build);
    if (found && found.goal.digest === goal.digest) return found;
    if (found) {
      const problem = digestMismatch(`installed ${goal.build} of ${goal.service}`, { sha256: goal.digest }, { sha256: found.goal.digest, size: found.goal.size }, 'the goal names another artifact under the same build id than the one installed; deploy a new build');
      if (keepOnConflict) throw problem;
      this.logger.warn({ service: goal.service, build: goal.build }, problem.message);
      await this.remove(goal.service, goal.build);
      return undefined;
    }
    const file = this.layout.artifact(goal.service, goal.build, goal.fileName);
    const stat = await fsp.stat(file).catch(() => undefined);
    if (!stat?.isFile()) return undefined;
    if (stat.size === goal.size && (await hashFile(file)) === goal.digest) {
      this.logger.info({ service: goal.service, build: goal.build }, 'found an unmarked artifact that matches its digest (interrupted install); marking it');
      return this.mark(goal, new Date().toISOString(), undefined);
    }
    await fsp.rm(file, { force: true });
    return undefined;
  }

  /** Moves a downloaded, verified file into place and marks it: from here on it counts as installed. */
  async install(goal: GoalContent, downloaded: string, fetched?: { fromPeers: number; fromBucket: number }): Promise<InstalledBuild> {
    const file = this.layout.artifact(goal.service, goal.build, goal.fileName);
    // Builds are programs: the run command starts them as ./<fileName> (buckets keep no file modes).
    await fsp.chmod(downloaded, 0o755);
    await fsp.rename(downloaded, file);
    await syncDir(this.layout.buildDir(goal.service, goal.build));
    return this.mark(goal, new Date().toISOString(), fetched);
  }

  /** Records that the build was used now (it became current): the cache keeps the most recently used. */
  async touch(build: InstalledBuild): Promise<InstalledBuild> {
    return this.mark(build.goal, new Date().toISOString(), build.fetched ?? undefined);
  }

  /** Build ids with a folder under `<service>/builds/`. */
  async builds(service: string): Promise<string[]> {
    const entries = await fsp.readdir(this.layout.buildsDir(service)).catch(() => [] as string[]);
    return entries.filter(isBuildId);
  }

  /** Every verified build of the service, most recently used first. */
  async verified(service: string): Promise<InstalledBuild[]> {
    const found: InstalledBuild[] = [];
    for (const build of await this.builds(service)) {
      const installed = await this.installed(service, build);
      if (installed) found.push(installed);
    }
    return found.sort((a, b) => b.usedAt.getTime() - a.usedAt.getTime());
  }

  async remove(service: string, build: string): Promise<void> {
    await fsp.rm(this.layout.buildDir(service, build), { recursive: true, force: true });
    // The build's log and its rotated parts (<build>.log.1, .2…).
    const log = this.layout.logFile(service, build);
    const rotated = new RegExp(`^${path.basename(log).replace(/\./g, '\\.')}(\\.\\d+)?$`);
    for (const name of await fsp.readdir(path.dirname(log)).catch(() => [] as string[])) {
      if (rotated.test(name)) await fsp.rm(path.join(path.dirname(log), name), { force: true });
    }
  }

  /** Free bytes on the disk of the agent dir, for an unprivileged writer. */
  async freeBytes(): Promise<number> {
    const stats = await fsp.statfs(this.layout.root);
    return stats.bavail * stats.bsize;
  }

  /**
   * Removes what the service no longer needs: folders of builds that are neither verified nor
   * protected (a superseded download, an unmarked leftover), verified builds beyond `keep`
   * (least recently used first), and then more cached builds while free disk is under
   * `minFreeBytes`. Never a protected build. Returns the builds removed.
   */
  async collect(service: string, options: CollectOptions): Promise<string[]> {
    const removed: string[] = [];
    const verified = await this.verified(service);
    const verifiedIds = new Set(verified.map((b) => b.goal.build));
    for (const build of await this.builds(service)) {
      if (verifiedIds.has(build) || options.protect.has(build)) continue;
      await this.remove(service, build);
      removed.push(build);
    }
    const cached = verified.filter((b) => !options.protect.has(b.goal.build));
    const slots = Math.max(0, options.keep - (verified.length - cached.length));
    for (const build of cached.splice(slots)) {
      await this.remove(service, build.goal.build);
      removed.push(build.goal.build);
    }
    while (cached.length > 0 && (await this.freeBytes()) < options.minFreeBytes) {
      const oldest = cached.pop()!;
      await this.remove(service, oldest.goal.build);
      removed.push(oldest.goal.build);
    }
    if (removed.length > 0) this.logger.info({ service, removed }, `removed cached builds of ${service}: ${removed.join(', ')}`);
    return removed;
  }

  private async mark(goal: GoalContent, usedAt: string, fetched: Marker['fetched']): Promise<InstalledBuild> {
    const file = this.layout.artifact(goal.service, goal.build, goal.fileName);
    const stat = await fsp.stat(file, { bigint: true });
    const marker: Marker = { v: 1, goal, size: Number(stat.size), mtimeNs: String(stat.mtimeNs), verifiedAt: new Date().toISOString(), usedAt, ...(fetched ? { fetched } : {}) };
    await writeJsonDurably(this.layout.marker(goal.service, goal.build), marker);
    return this.toInstalled(marker);
  }

  private toInstalled(marker: Marker): InstalledBuild {
    const { goal } = marker;
    return {
      goal,
      file: this.layout.artifact(goal.service, goal.build, goal.fileName),
      dir: this.layout.buildDir(goal.service, goal.build),
      usedAt: new Date(marker.usedAt),
      fetched: marker.fetched ?? null,
    };
  }
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
