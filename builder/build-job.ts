import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { artifactObjectName, logObjectName, type BlobStore, type LogWriter } from '../blobstore/index.ts';
import { formatBytes, humanDuration } from '../config/index.ts';
import { backoffDelay, sleep } from '../lifecycle/index.ts';
import { formatBuildId, type Build, type BuildHandler, type BuildResult } from '../queue/index.ts';
import type { ServiceRegistry } from '../queue/services/index.ts';
import type { Logger } from '../logging/index.ts';
import { BuildFailure } from './build-failure.ts';
import { runBuildCommand } from './build-command.ts';
import type { GitMirror } from './git-mirror.ts';

export interface BuildJobOptions {
  services: ServiceRegistry;
  /** The main bucket: artifacts and logs go here. */
  store: BlobStore;
  mirror: GitMirror;
  /** Where fresh workspaces are made, one per build attempt. */
  workDir: string;
  /** Checkout + build + upload must fit in this. @defaultValue 15 min */
  buildTimeoutMs?: number;
  /** Free disk needed in workDir to start. @defaultValue 2 GiB */
  minFreeDiskBytes?: number;
  /** Upload attempts before the build fails. @defaultValue 3 */
  uploadTries?: number;
}

/**
 * One build, start to end: check free disk, check the commit out, run the build command,
 * hash the artifact, upload it to the main bucket, verify what landed. Only then does it
 * return the digest — and only then may the queue mark the build SUCCEEDED.
 */
export function createBuildHandler(options: BuildJobOptions): BuildHandler {
  const buildTimeoutMs = options.buildTimeoutMs ?? 15 * 60_000;
  const minFreeDisk = options.minFreeDiskBytes ?? 2 * 1024 ** 3;
  const uploadTries = options.uploadTries ?? 3;

  return async (build, { signal, logger }) => {
    const started = Date.now();
    const service = await options.services.get(build.service);
    const log = await BuildLog.open(options.store, build, logger);
    const workspace = path.join(options.workDir, `${formatBuildId(build.id)}-${build.attempts}`);
    try {
      await log.line(`==> ${formatBuildId(build.id)} ${service.name}@${build.commit} attempt ${build.attempts}, worker ${build.claimedBy}`);
      await checkFreeDisk(options.workDir, minFreeDisk, build.claimedBy);

      await fs.rm(workspace, { recursive: true, force: true });
      await log.line(`==> checking out ${build.commit} from ${service.repo}`);
      const sha = await options.mirror.checkout(service.name, service.repo, build.commit, workspace, signal);
      const commit = await options.mirror.describe(workspace, sha);
      await log.line(`==> ${sha.slice(0, 12)} by ${commit.author}: ${commit.subject}`);

      const artifact = path.join(workspace, build.artifact);
      await fs.mkdir(path.dirname(artifact), { recursive: true });
      await log.line(`==> running: ${service.buildCommand}`);
      const result = await runBuildCommand({
        command: service.buildCommand,
        cwd: workspace,
        env: {
          ...process.env,
          FLEETCAST_BUILD_ID: formatBuildId(build.id),
          FLEETCAST_SERVICE: service.name,
          FLEETCAST_COMMIT: sha,
          FLEETCAST_OUT: artifact,
        } as Record<string, string>,
        timeoutMs: Math.max(1, buildTimeoutMs - (Date.now() - started)),
        signal,
        onLine: (line) => void log.line(line),
      });
      if (result.outcome === 'aborted') throw signal.reason ?? new Error('build aborted');
      if (result.outcome === 'timed-out') {
        throw new BuildFailure(`timed out after ${humanDuration(buildTimeoutMs)}: the build command was killed${lastLines(result.tail)}`);
      }
      if (result.code !== 0) {
        const how = result.killedBy ? `was killed by ${result.killedBy}` : `exited with code ${result.code}`;
        throw new BuildFailure(`build command ${how}${lastLines(result.tail)}`);
      }

      const { digest, size } = await hashArtifact(workspace, artifact, build.artifact);
      await log.line(`==> artifact ${build.artifact}: ${formatBytes(size)}, sha256 ${digest}`);
      const name = artifactObjectName(service.name, build.id, digest);
      await upload(options.store, name, artifact, { digest, size, build, sha }, uploadTries, signal, log);

      const stored = await options.store.stat(name);
      if (stored.size !== size || stored.sha256 !== digest) {
        throw new BuildFailure(`the stored artifact ${name} does not match what was built (${stored.size} bytes, sha256 ${stored.sha256})`);
      }
      await log.line(`==> stored and verified as ${options.store.bucket}/${name}`);
      return { digest, size, commitAuthor: commit.author, commitSubject: commit.subject } satisfies BuildResult;
    } catch (err) {
      await log.line(`==> FAILED: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    } finally {
      await log.close();
      await fs.rm(workspace, { recursive: true, force: true }).catch(() => undefined);
    }
  };
}

async function checkFreeDisk(dir: string, needed: number, worker: string | null): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const stats = await fs.statfs(dir);
  const free = stats.bavail * stats.bsize;
  if (free < needed) {
    throw new BuildFailure(
      `not enough disk on worker ${worker}: ${formatBytes(free)} free in ${dir}, ${formatBytes(needed)} needed (FLEETCAST_MIN_FREE_DISK); free some space there`,
    );
  }
}

async function hashArtifact(workspace: string, artifact: string, relative: string): Promise<{ digest: string; size: number }> {
  const stats = await fs.stat(artifact).catch(() => null);
  if (!stats) throw new BuildFailure(`artifact missing at ${relative}: the build command succeeded but did not write it (write it to $FLEETCAST_OUT)`);
  if (!stats.isFile()) throw new BuildFailure(`artifact ${relative} is not a regular file; build one file (e.g. a tarball) at $FLEETCAST_OUT`);
  // A symlink out of the checkout would upload a file the build did not make.
  const real = await fs.realpath(artifact);
  const root = await fs.realpath(workspace);
  if (!real.startsWith(root + path.sep)) throw new BuildFailure(`artifact ${relative} points outside the checkout (${real})`);

  const hash = createHash('sha256');
  let size = 0;
  await pipeline(createReadStream(artifact), async function* (chunks: AsyncIterable<Buffer>) {
    for await (const chunk of chunks) {
      hash.update(chunk);
      size += chunk.length;
    }
  });
  return { digest: hash.digest('hex'), size };
}

async function upload(
  store: BlobStore,
  name: string,
  file: string,
  facts: { digest: string; size: number; build: Build; sha: string },
  tries: number,
  signal: AbortSignal,
  log: BuildLog,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) throw signal.reason;
    try {
      await log.line(`==> uploading to ${store.bucket}/${name} (try ${attempt} of ${tries})`);
      await store.put(name, createReadStream(file), {
        sha256: facts.digest,
        size: facts.size,
        metadata: { service: facts.build.service, build: formatBuildId(facts.build.id), commit: facts.sha },
      });
      return;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (attempt >= tries) throw new BuildFailure(`upload failed after ${tries} tries: ${reason}`);
      await log.line(`==> upload try ${attempt} failed: ${reason}`);
      await sleep(backoffDelay(attempt, { initialMs: 1_000 }), signal);
    }
  }
}

function lastLines(tail: string[]): string {
  return tail.length === 0 ? ' (no output)' : `; last lines:\n${tail.join('\n')}`;
}

/**
 * The build's log in the main bucket, readable while the build runs. Losing the log (storage
 * trouble) is reported but never fails the build by itself.
 */
class BuildLog {
  private pending: Promise<void> = Promise.resolve();
  private broken = false;

  private constructor(
    private readonly writer: LogWriter | null,
    private readonly logger: Logger,
  ) {}

  static async open(store: BlobStore, build: Build, logger: Logger): Promise<BuildLog> {
    try {
      return new BuildLog(await store.openLog(logObjectName(build.service, build.id)), logger);
    } catch (err) {
      logger.warn({ err }, 'could not open the build log; the build goes on without it');
      return new BuildLog(null, logger);
    }
  }

  /** Appends in order; resolves when this line (and all before it) reached the store. */
  line(text: string): Promise<void> {
    const writer = this.writer;
    if (!writer) return Promise.resolve();
    this.pending = this.pending.then(async () => {
      if (this.broken) return;
      try {
        await writer.append(text);
      } catch (err) {
        this.broken = true;
        this.logger.warn({ err }, 'writing the build log failed; later lines are dropped');
      }
    });
    return this.pending;
  }

  async close(): Promise<void> {
    await this.pending;
    await this.writer?.close().catch((err: unknown) => this.logger.warn({ err }, 'closing the build log failed'));
  }
}
