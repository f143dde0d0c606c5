import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { FleetcastError } from '../errors/index.ts';

const exec = promisify(execFile);

export type SandboxKind = 'bwrap' | 'none';

/** What one build's sandbox is made of. */
export interface SandboxLayout {
  /** The checkout: the only place (with home and tmp) the build may write. */
  workspace: string;
  /** Fresh, empty, per build: become $HOME and $TMPDIR (/tmp) inside. */
  home: string;
  tmp: string;
  /** Visible read-only, e.g. the git objects the checkout borrows. */
  readOnly: string[];
  /** false: the build gets a network namespace of its own with nothing in it. */
  network: boolean;
}

/** System folders a build reads (compilers, shells, libraries); read-only. */
const systemDirs = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/opt'];
/**
 * From /etc only what programs need to run, resolve names and check TLS — never the whole of
 * it: /etc holds database and NATS configs, shadow files and the like.
 */
const etcEntries = [
  '/etc/alternatives',
  '/etc/ca-certificates',
  '/etc/ca-certificates.conf',
  '/etc/ssl',
  '/etc/hosts',
  '/etc/resolv.conf',
  '/etc/nsswitch.conf',
  '/etc/host.conf',
  '/etc/gai.conf',
  '/etc/services',
  '/etc/protocols',
  '/etc/passwd',
  '/etc/group',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/localtime',
  '/etc/mime.types',
];

/**
 * Where a build command runs. `bwrap` (bubblewrap): a mount namespace that holds only the
 * system folders (read-only), a few files of /etc, the checkout and a fresh home and /tmp; its
 * own pid namespace (the worker's /proc/<pid>/environ is out of sight), no capabilities, and
 * optionally no network. `none` runs the command directly (still with the allow-listed
 * environment the caller builds): for machines without user namespaces, where the worker runs
 * as a dedicated user instead (docs/operations.md).
 */
export class BuildSandbox {
  private constructor(readonly kind: SandboxKind) {}

  /** Checks once, at start, that the sandbox works here, so a worker never claims builds it cannot run. */
  static async create(kind: SandboxKind): Promise<BuildSandbox> {
    if (kind === 'bwrap') {
      try {
        await exec('bwrap', ['--ro-bind', '/', '/', '--unshare-pid', '--cap-drop', 'ALL', '--die-with-parent', '/bin/true'], { timeout: 10_000 });
      } catch (err) {
        throw new FleetcastError(
          'CONFIG_INVALID',
          `the build sandbox (bubblewrap) does not work here: ${(err as Error).message.trim()}; install it (bash ops/ensure-tools.sh, Debian package bubblewrap), ` +
            'or set FLEETCAST_BUILD_SANDBOX=none and run the worker as a dedicated unprivileged user (docs/operations.md)',
        );
      }
    }
    return new BuildSandbox(kind);
  }

  /** The argv that runs `command` through /bin/sh inside the sandbox. */
  argv(command: string, layout: SandboxLayout): string[] {
    const shell = ['/bin/sh', '-c', command];
    if (this.kind === 'none') return shell;
    const args = ['bwrap', '--die-with-parent', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--cap-drop', 'ALL'];
    if (!layout.network) args.push('--unshare-net');
    for (const dir of systemDirs) args.push('--ro-bind-try', dir, dir);
    for (const entry of etcEntries) args.push('--ro-bind-try', entry, entry);
    args.push('--proc', '/proc', '--dev', '/dev');
    args.push('--bind', layout.tmp, '/tmp', '--bind', layout.home, layout.home);
    for (const dir of layout.readOnly) args.push('--ro-bind', dir, dir);
    args.push('--bind', layout.workspace, layout.workspace, '--chdir', layout.workspace);
    return [...args, '--', ...shell];
  }
}
