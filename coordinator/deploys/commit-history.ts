import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { redactRepoUrl, repoKind } from '../../queue/services/index.ts';

const exec = promisify(execFile);

/** A preview waits this long for a fetch: it must answer even when the repository is slow. */
const fetchTimeoutMs = 30_000;
const localTimeoutMs = 10_000;
/** Commits listed per direction; more are summed up as `truncated`. */
const defaultLimit = 50;
/** Only branches and tags, as the builders' mirrors. */
const refspecs = ['+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'];

export interface Commit {
  sha: string;
  /** `Name <email>`. */
  author: string;
  subject: string;
}

/** What changes when a region goes from one commit to another. */
export interface CommitRange {
  /** In `to`, not in `from`, newest first: what the change ships. */
  shipped: Commit[];
  /** In `from`, not in `to`, newest first: what it takes away (a rollback, or a deploy of an older build). */
  removed: Commit[];
  /** More commits than listed in one direction or the other. */
  truncated: boolean;
}

export interface CommitHistoryOptions {
  /** Local repositories (paths, file://) too: tests and `fleetcast up` (FLEETCAST_GIT_ALLOW_FILE). @defaultValue false */
  allowFile?: boolean;
  /** @defaultValue 50 */
  limit?: number;
}

/**
 * The coordinator's own bare mirror of each service's repository (`<data dir>/commits`), for
 * previews: the commits between the build a region runs and the one it would get. Fetched only
 * when a commit is missing. Like the builders' mirrors, git never prompts, never reads a user's
 * or the system's config, and speaks only the transports fleetcast accepts.
 */
export class CommitHistory {
  private readonly allowFile: boolean;
  private readonly limit: number;
  /** Serializes work on one mirror within this process (creation and fetches). */
  private readonly busy = new Map<string, Promise<unknown>>();

  constructor(
    private readonly dir: string,
    options: CommitHistoryOptions = {},
  ) {
    this.allowFile = options.allowFile ?? false;
    this.limit = options.limit ?? defaultLimit;
  }

  /** The commits from `from` (null: nothing deployed yet, every commit up to `to` counts as shipped) to `to`; throws a sentence a person can act on. */
  async between(service: string, repo: string, from: string | null, to: string): Promise<CommitRange> {
    const kind = repoKind(repo);
    if (kind === null || (kind === 'file' && !this.allowFile)) {
      throw new Error(`the coordinator does not read ${redactRepoUrl(repo)} (${kind === 'file' ? 'a local repository: set FLEETCAST_GIT_ALLOW_FILE=true on the coordinator' : 'not an https, ssh or local address'})`);
    }
    const mirror = path.join(this.dir, `${service}.git`);
    await this.serialized(mirror, async () => {
      await this.ensure(mirror, repo);
      const wanted = from === null ? [to] : [from, to];
      if ((await Promise.all(wanted.map((sha) => this.has(mirror, sha)))).every(Boolean)) return;
      await this.git(['fetch', '--quiet', '--prune', '--no-recurse-submodules', 'origin', ...refspecs], { cwd: mirror, timeoutMs: fetchTimeoutMs, allowFile: this.allowFile }).catch((err: unknown) => {
        throw new Error(`could not fetch ${redactRepoUrl(repo)}: ${redactRepoUrl(gitError(err))}`);
      });
      for (const sha of wanted) if (!(await this.has(mirror, sha))) throw new Error(`commit ${sha.slice(0, 12)} is not in ${redactRepoUrl(repo)} any more (force-pushed away?)`);
    });
    const shipped = await this.log(mirror, from === null ? [to] : [`${from}..${to}`]);
    const removed = from === null ? [] : await this.log(mirror, [`${to}..${from}`]);
    const truncated = shipped.length > this.limit || removed.length > this.limit;
    return { shipped: shipped.slice(0, this.limit), removed: removed.slice(0, this.limit), truncated };
  }

  private async log(mirror: string, range: string[]): Promise<Commit[]> {
    const out = await this.git(['log', `--max-count=${this.limit + 1}`, '--format=%H%x1f%an <%ae>%x1f%s', ...range, '--'], { cwd: mirror });
    return out
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [sha = '', author = '', subject = ''] = line.split('\x1f');
        return { sha, author, subject };
      });
  }

  private async ensure(mirror: string, repo: string): Promise<void> {
    if (
      await fs.access(path.join(mirror, 'HEAD')).then(
        () => true,
        () => false,
      )
    ) {
      // The service's repo may have changed since the mirror was made.
      await this.git(['remote', 'set-url', 'origin', repo], { cwd: mirror });
      return;
    }
    await fs.mkdir(mirror, { recursive: true });
    await this.git(['init', '--quiet', '--bare', mirror]);
    await this.git(['remote', 'add', 'origin', repo], { cwd: mirror });
  }

  private async has(mirror: string, sha: string): Promise<boolean> {
    return this.git(['cat-file', '-e', `${sha}^{commit}`], { cwd: mirror }).then(
      () => true,
      () => false,
    );
  }

  private async git(args: string[], options: { cwd?: string; timeoutMs?: number; allowFile?: boolean } = {}): Promise<string> {
    const allowFile = options.allowFile ?? false;
    const allowed = allowFile ? ['https', 'ssh', 'file'] : ['https', 'ssh'];
    const { stdout } = await exec('git', ['-c', 'protocol.allow=never', ...allowed.flatMap((name) => ['-c', `protocol.${name}.allow=always`]), ...args], {
      cwd: options.cwd,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_ASKPASS: 'true', GIT_ALLOW_PROTOCOL: allowed.join(':') },
      timeout: options.timeoutMs ?? localTimeoutMs,
      maxBuffer: 4 * 1024 * 1024,
    });
    return stdout.trim();
  }

  private async serialized<T>(key: string, work: () => Promise<T>): Promise<T> {
    const next = (this.busy.get(key) ?? Promise.resolve()).catch(() => undefined).then(work);
    this.busy.set(key, next);
    try {
      return await next;
    } finally {
      if (this.busy.get(key) === next) this.busy.delete(key);
    }
  }
}

function gitError(err: unknown): string {
  const stderr = (err as { stderr?: string }).stderr?.trim();
  return stderr || (err instanceof Error ? err.message : String(err));
}
