import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { redactRepoUrl, repoKind } from '../queue/services/index.ts';
import { BuildFailure } from './build-failure.ts';

const exec = promisify(execFile);

/** Limits on git, which talks to remotes that may hang. */
const fetchTimeoutMs = 10 * 60_000;
const localTimeoutMs = 2 * 60_000;
const fetchTries = 3;

/** Only branches and tags are mirrored: never pull requests (on GitHub, anyone's) or other refs. */
const mirrorRefspecs = ['+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'];

/**
 * Never wait for a password on a terminal nobody watches; never read a user's or the system's
 * git config (a hostile one could run programs through hooks, filters or core.sshCommand);
 * only the transports fleetcast accepts, for the repository and its submodules alike.
 */
function gitEnv(allowFile: boolean): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ASKPASS: 'true',
    GIT_ALLOW_PROTOCOL: allowFile ? 'https:ssh:file' : 'https:ssh',
  };
}

function protocolConfig(allowFile: boolean): string[] {
  const allowed = allowFile ? ['https', 'ssh', 'file'] : ['https', 'ssh'];
  return ['-c', 'protocol.allow=never', ...allowed.flatMap((name) => ['-c', `protocol.${name}.allow=always`])];
}

interface GitOptions {
  cwd?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  allowFile?: boolean;
}

async function git(args: string[], options: GitOptions = {}): Promise<string> {
  const allowFile = options.allowFile ?? false;
  const { stdout } = await exec('git', [...protocolConfig(allowFile), ...args], {
    cwd: options.cwd,
    env: gitEnv(allowFile),
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

export interface CheckoutRequest {
  service: string;
  repo: string;
  commit: string;
  /** The service's branch(es), comma-separated: the commit must be reachable from one. */
  branches: string;
  /** Who allowed building a commit off those branches (an admin); null: the branch rule holds. */
  branchOverrideBy: string | null;
  /** Must not exist yet. */
  workspace: string;
  signal?: AbortSignal;
}

export interface GitMirrorOptions {
  /** Allow local repositories (paths, file://): tests and `fleetcast up`. @defaultValue false */
  allowFile?: boolean;
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
  private readonly allowFile: boolean;

  constructor(
    private readonly cacheDir: string,
    options: GitMirrorOptions = {},
  ) {
    this.allowFile = options.allowFile ?? false;
  }

  /** The objects a checkout of `service` borrows (clone --shared): the build sandbox shows them read-only. */
  objectsDir(service: string): string {
    return path.join(this.cacheDir, `${service}.git`, 'objects');
  }

  /**
   * Checks the commit out into the workspace and returns the full sha. A commit that is not
   * reachable from the service's branches is refused (NOT_ON_BRANCH in the reason) unless an
   * admin overrode the rule for this build: otherwise anyone able to push a branch (or open a
   * pull request) could have a build of their code deployed under the service's name.
   */
  async checkout(request: CheckoutRequest): Promise<string> {
    const { service, repo, commit, workspace, signal } = request;
    this.checkTransport(repo);
    const mirror = await this.ensureMirror(service, repo, signal);
    const branches = request.branches.split(',');
    let sha = await this.resolve(mirror, commit);
    if (sha === null || (request.branchOverrideBy === null && !(await this.onBranch(mirror, sha, branches)))) {
      await this.serialized(mirror, () => this.fetch(mirror, repo, signal));
      sha = await this.resolve(mirror, commit);
    }
    if (sha === null) {
      throw new BuildFailure(`commit ${commit} not found in ${redactRepoUrl(repo)} (fetched its branches and tags); check the sha and that it was pushed`);
    }
    if (request.branchOverrideBy === null && !(await this.onBranch(mirror, sha, branches))) {
      throw new BuildFailure(
        `NOT_ON_BRANCH: commit ${sha.slice(0, 12)} is not on ${branches.length > 1 ? 'any of the branches' : 'the branch'} ${branches.join(', ')} of service ${service}; ` +
          `merge it first, or an admin may build it anyway with: fleetcast build ${service} ${sha.slice(0, 12)} --override-branch (audited)`,
      );
    }
    // The mirror is a local repository of our own: the file transport is fine for this one.
    await git(['clone', '--quiet', '--shared', '--no-checkout', mirror, workspace], { signal, allowFile: true });
    await git(['checkout', '--quiet', '--detach', sha], { cwd: workspace, signal });
    return sha;
  }

  private checkTransport(repo: string): void {
    const kind = repoKind(repo);
    if (kind === null) throw new BuildFailure(`the repository ${redactRepoUrl(repo)} is not an https, ssh or local address; fix the service's repo`);
    if (kind === 'file' && !this.allowFile) {
      throw new BuildFailure(`the repository ${repo} is local, and this worker does not build from local repositories; set FLEETCAST_GIT_ALLOW_FILE=true on it (for tests and fleetcast up)`);
    }
  }

  private async onBranch(mirror: string, sha: string, branches: string[]): Promise<boolean> {
    for (const branch of branches) {
      try {
        await git(['merge-base', '--is-ancestor', sha, `refs/heads/${branch}`], { cwd: mirror });
        return true;
      } catch {
        // Not an ancestor, or no such branch (yet): try the next.
      }
    }
    return false;
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
      await git(['remote', 'add', 'origin', repo], { cwd: staging });
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
        // Explicit refspecs: whatever an older mirror's config says, only branches and tags come.
        await git(['fetch', '--quiet', '--prune', '--no-recurse-submodules', 'origin', ...mirrorRefspecs], { cwd: mirror, timeoutMs: fetchTimeoutMs, signal, allowFile: this.allowFile });
        return;
      } catch (err) {
        if (signal?.aborted) throw err;
        if (attempt >= fetchTries) {
          throw new BuildFailure(`could not fetch ${redactRepoUrl(repo)} after ${fetchTries} tries: ${redactRepoUrl(gitError(err))}`);
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
