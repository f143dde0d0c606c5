import { spawn } from 'node:child_process';
import readline from 'node:readline';

export interface BuildCommandOptions {
  /** The program and its arguments: the build command through the shell, in its sandbox (BuildSandbox.argv). */
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** Kills the command (CLAIM_LOST, cancel, shutdown). */
  signal: AbortSignal;
  /** Each line of stdout and stderr, as it comes. */
  onLine: (line: string) => void;
}

export type BuildCommandResult =
  | { outcome: 'exited'; code: number | null; killedBy: NodeJS.Signals | null; tail: string[] }
  | { outcome: 'timed-out'; tail: string[] }
  | { outcome: 'aborted'; tail: string[] };

/** Lines kept for the failure reason. */
const tailLines = 20;
/** Between SIGTERM and SIGKILL of the build's process group. */
const killGraceMs = 5_000;

/**
 * Kills the build's process group once the worker is gone ($1: the worker's pid, $2: the
 * group), and exits by itself once the group is. A worker killed with -9 runs no code, and the
 * group lives on its own (detached): without this its build would keep running, appending to
 * the log and racing the worker that takes the build over.
 */
const watchdogScript = [
  'while kill -0 "$1" 2>/dev/null; do',
  '  kill -0 -"$2" 2>/dev/null || exit 0',
  '  sleep 1',
  'done',
  'kill -KILL -"$2" 2>/dev/null',
].join('\n');

/**
 * Runs a build command in its own process group, so a timeout or a lost claim kills everything
 * it started (compilers, test runners), not just the shell. bubblewrap stays in that group and
 * dies with it (--die-with-parent, its own pid namespace), taking the whole sandbox along.
 */
export function runBuildCommand(options: BuildCommandOptions): Promise<BuildCommandResult> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = options.argv;
    const child = spawn(file!, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid !== undefined) {
      spawn('/bin/sh', ['-c', watchdogScript, 'fleetcast-build-watchdog', String(process.pid), String(child.pid)], { detached: true, stdio: 'ignore' }).unref();
    }
    const tail: string[] = [];
    const take = (line: string) => {
      tail.push(line);
      if (tail.length > tailLines) tail.shift();
      options.onLine(line);
    };
    readline.createInterface({ input: child.stdout! }).on('line', take);
    readline.createInterface({ input: child.stderr! }).on('line', take);

    let stopReason: 'timed-out' | 'aborted' | undefined;
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // Already gone.
      }
    };
    const stop = (reason: 'timed-out' | 'aborted') => {
      if (stopReason) return;
      stopReason = reason;
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), killGraceMs).unref();
    };
    const timer = setTimeout(() => stop('timed-out'), options.timeoutMs);
    const onAbort = () => stop('aborted');
    if (options.signal.aborted) onAbort();
    options.signal.addEventListener('abort', onAbort, { once: true });

    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, killedBy) => {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      // Whatever the shell left running in its group goes with it.
      killGroup('SIGKILL');
      if (stopReason) resolve({ outcome: stopReason, tail });
      else resolve({ outcome: 'exited', code, killedBy, tail });
    });
  });
}
