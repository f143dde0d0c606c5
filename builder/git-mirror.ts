import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { BuildFailure } from './build-failure.ts';

const exec = promisify(execFile);

/** Limits on git, which talks to remotes that may hang. */
const fetchTimeoutMs = 10 * 60_000;
const localTimeoutMs = 2 * 60_000;
const fetchTries = 3;

// Never wait for a password on a terminal nobody watches; never read the user's git config.
const gitEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_ASKPASS: 'true' };

async function git(args: string[], options: { cwd?: string; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string> {
  const { stdout } = await exec('git', args, {
    cwd: options.cwd,
    env: gitEnv,
    timeout: options.timeoutMs ?? localTimeoutMs,
    signal: options.signal,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout.trim();
}

function gitError(err: unknown): string {
  const stderr = (err as { stderr?: string }).stderr?.trim();
  return stderr || (err instanceof Error ? err.message : String(err));
}

/**
 * A bare mirror of each service's repository, kept across builds so a build fetches only
 * what is new; each build checks out into a fresh workspace that borrows the mirror's objects.
 * Several worker processes may share the cache folder: creation is atomic (rename) and a fetch
 * that loses a ref lock to a concurrent fetch is retried.
 */
export class GitMirror {
  /** Serializes fetches into one mirror within this process. */
  private readonly fetching = new Map<string, Promise<unknown>>();

  constructor(private readonly cacheDir: string) {}

  /** Checks `commit` out into `workspace` (which must not exist) and returns the full sha. */
  async checkout(service: string, repo: string, commit: string, workspace: string, signal?: AbortSignal): Promise<string> {
    const mirror = await this.ensureMirror(service, repo, signal);
    let sha = await this.resolve(mirror, commit);
    if (sha === null) {
      await this.serialized(mirror, () => this.fetch(mirror, repo, signal));
      sha = await this.resolve(mirror, commit);
    }
    if (sha === null) {
      throw new BuildFailure(`commit ${commit} not found in ${repo} (fetched all its branches and tags); check the sha and that it was pushed`);
    }
    await git(['clone', '--quiet', '--shared', '--no-checkout', mirror, workspace], { signal });
    await git(['checkout', '--quiet', '--detach', sha], { cwd: workspace, signal });
    return sha;
  }

  /** `Name <email>` of the commit's author and its subject line, for the deploy preview. */
  async describe(workspace: string, sha: string): Promise<{ author: string; subject: string }> {
    const out = await git(['log', '-1', '--format=%an <%ae>%x00%s', sha], { cwd: workspace });
    const [author = '', subject = ''] = out.trim().split('\0');
    return { author, subject };
  }

  private async ensureMirror(service: string, repo: string, signal?: AbortSignal): Promise<string> {
    const mirror = path.join(this.cacheDir, `${service}.git`);
    if (await exists(path.join(mirror, 'HEAD'))) {
      // The service's repo may have been changed since the mirror was made.
      await git(['remote', 'set-url', 'origin', repo], { cwd: mirror });
      return mirror;
    }
    await fs.mkdir(this.cacheDir, { recursive: true });
    const staging = await fs.mkdtemp(path.join(this.cacheDir, `.${service}-`));
    try {
      await git(['init', '--quiet', '--bare', staging]);
      await git(['remote', 'add', '--mirror=fetch', 'origin', repo], { cwd: staging });
      await this.fetch(staging, repo, signal);
      await fs.rename(staging, mirror).catch(async (err: NodeJS.ErrnoException) => {
        // Another worker made it first: use theirs.
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
        await fs.rm(staging, { recursive: true, force: true });
      });
    } catch (err) {
      await fs.rm(staging, { recursive: true, force: true });
      throw err;
    }
    return mirror;
  }

  private async fetch(mirror: string, repo: string, signal?: AbortSignal): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await git(['fetch', '--quiet', '--prune', '--tags', 'origin'], { cwd: mirror, timeoutMs: fetchTimeoutMs, signal });
        return;
      } catch (err) {
        if (signal?.aborted) throw err;
        if (attempt >= fetchTries) {
          throw new BuildFailure(`could not fetch ${repo} after ${fetchTries} tries: ${gitError(err)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }
  }

  /** The full sha of `commit` if the mirror has it (a unique prefix works too). */
  private async resolve(mirror: string, commit: string): Promise<string | null> {
    try {
      return await git(['rev-parse', '--verify', '--quiet', `${commit}^{commit}`], { cwd: mirror });
    } catch {
      return null;
    }
  }

  private async serialized<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.fetching.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.fetching.set(key, next);
    try {
      return await next;
    } finally {
      if (this.fetching.get(key) === next) this.fetching.delete(key);
    }
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}
