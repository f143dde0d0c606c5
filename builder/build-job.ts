import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { artifactObjectName, logObjectName, type BlobStore, type LogWriter } from '../blobstore/index.ts';
import { formatBytes, humanDuration } from '../config/index.ts';
import { backoffDelay, sleep } from '../lifecycle/index.ts';
import { formatBuildId, type Build, type BuildHandler, type BuildResult } from '../queue/index.ts';
import { redactRepoUrl, type ServiceRegistry } from '../queue/services/index.ts';
import type { Logger } from '../logging/index.ts';
import { BuildFailure } from './build-failure.ts';
import { runBuildCommand } from './build-command.ts';
import { buildEnvironment } from './build-environment.ts';
import { readBuildPlan } from './build-plan.ts';
import type { BuildSandbox } from './build-sandbox.ts';
import type { GitMirror } from './git-mirror.ts';
import type { SecretMasker } from './secret-masker.ts';

export interface BuildJobOptions {
  services: ServiceRegistry;
  /** The main bucket: artifacts and logs go here. */
  store: BlobStore;
  mirror: GitMirror;
  /** Where build commands run. */
  sandbox: BuildSandbox;
  /** The worker's secrets, masked in build logs; read again for each build (files may change). */
  secrets: () => SecretMasker;
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
    const masker = options.secrets().withSecretsOf(service.buildEnv);
    const log = await BuildLog.open(options.store, build, logger, masker);
    const workspace = path.join(options.workDir, `${formatBuildId(build.id)}-${build.attempts}`);
    // The build's fresh home and /tmp, beside the checkout (on disk, not in memory).
    const scratch = `${workspace}.scratch`;
    try {
      await log.line(`==> ${formatBuildId(build.id)} ${service.name}@${build.commit} attempt ${build.attempts}, worker ${build.claimedBy}`);
      await checkFreeDisk(options.workDir, minFreeDisk, build.claimedBy);

      await fs.rm(workspace, { recursive: true, force: true });
      await fs.rm(scratch, { recursive: true, force: true });
      await log.line(`==> checking out ${build.commit} from ${redactRepoUrl(service.repo)} (branch ${service.branch})`);
      if (build.branchOverrideBy !== null) await log.line(`==> the branch rule is overridden for this build by ${build.branchOverrideBy}`);
      const sha = await options.mirror.checkout({
        service: service.name,
        repo: service.repo,
        commit: build.commit,
        branches: service.branch,
        branchOverrideBy: build.branchOverrideBy,
        workspace,
        signal,
      });
      const commit = await options.mirror.describe(workspace, sha);
      await log.line(`==> ${sha.slice(0, 12)} by ${commit.author}: ${commit.subject}`);

      // The repository's fleetcast.yml at this commit, if any, says how to build and run it.
      const plan = await readBuildPlan(workspace, service, build);
      await log.line(plan.used.config.source === 'fleetcast.yml' ? `==> using fleetcast.yml of ${sha.slice(0, 12)}` : '==> no fleetcast.yml: using the service settings');
      const artifact = path.join(workspace, plan.used.artifact);
      await fs.mkdir(path.dirname(artifact), { recursive: true });
      const home = path.join(scratch, 'home');
      const tmp = path.join(scratch, 'tmp');
      await fs.mkdir(home, { recursive: true, mode: 0o700 });
      await fs.mkdir(tmp, { recursive: true, mode: 0o700 });
      const inSandbox = options.sandbox.kind === 'bwrap';
      await log.line(`==> running in sandbox ${options.sandbox.kind} (network ${service.buildNetwork ? 'on' : 'off'}): ${plan.used.buildCommand}`);
      const result = await runBuildCommand({
        argv: options.sandbox.argv(plan.used.buildCommand, { workspace, home, tmp, readOnly: [options.mirror.objectsDir(service.name)], network: service.buildNetwork }),
        cwd: workspace,
        env: buildEnvironment({
          buildId: formatBuildId(build.id),
          service: service.name,
          commit: sha,
          out: artifact,
          home,
          // bubblewrap mounts the build's tmp folder at /tmp.
          tmp: inSandbox ? '/tmp' : tmp,
          settings: service.buildEnv,
        }),
        timeoutMs: Math.max(1, buildTimeoutMs - (Date.now() - started)),
        signal,
        onLine: (line) => void log.line(line),
      });
      if (result.outcome === 'aborted') throw signal.reason ?? new Error('build aborted');
      if (result.outcome === 'timed-out') {
        throw new BuildFailure(`timed out after ${humanDuration(buildTimeoutMs)}: the build command was killed${masker.apply(lastLines(result.tail))}`);
      }
      if (result.code !== 0) {
        const how = result.killedBy ? `was killed by ${result.killedBy}` : `exited with code ${result.code}`;
        throw new BuildFailure(`build command ${how}${masker.apply(lastLines(result.tail))}`);
      }

      const { digest, size } = await hashArtifact(workspace, artifact, plan.used.artifact);
      await log.line(`==> artifact ${plan.used.artifact}: ${formatBytes(size)}, sha256 ${digest}`);
      const name = artifactObjectName(service.name, build.id, digest);
      await upload(options.store, name, artifact, { digest, size, build, sha }, uploadTries, signal, log);

      const stored = await options.store.stat(name);
      if (stored.size !== size || stored.sha256 !== digest) {
        throw new BuildFailure(`the stored artifact ${name} does not match what was built (${stored.size} bytes, sha256 ${stored.sha256})`);
      }
      await log.line(`==> stored and verified as ${options.store.bucket}/${name}`);
      return { digest, size, commitAuthor: commit.author, commitSubject: commit.subject, used: plan.used } satisfies BuildResult;
    } catch (err) {
      await log.line(`==> FAILED: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    } finally {
      await log.close();
      await fs.rm(workspace, { recursive: true, force: true }).catch(() => undefined);
      await fs.rm(scratch, { recursive: true, force: true }).catch(() => undefined);
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
    private readonly masker: SecretMasker,
  ) {}

  static async open(store: BlobStore, build: Build, logger: Logger, masker: SecretMasker): Promise<BuildLog> {
    try {
      return new BuildLog(await store.openLog(logObjectName(build.service, build.id)), logger, masker);
    } catch (err) {
      logger.warn({ err }, 'could not open the build log; the build goes on without it');
      return new BuildLog(null, logger, masker);
    }
  }

  /** Appends in order, known secrets masked; resolves when this line (and all before it) reached the store. */
  line(raw: string): Promise<void> {
    const text = this.masker.apply(raw);
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
