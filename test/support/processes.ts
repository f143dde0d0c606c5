import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A child process whose stdout is JSON lines, collected as they arrive. */
export interface JsonProcess {
  child: ChildProcess;
  events: Record<string, unknown>[];
  stderr: string[];
  /** Resolves with the first event matching, or rejects if the process exits first. */
  waitFor(match: (event: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

const running = new Set<ChildProcess>();

/**
 * Runs a file of this repository: a TypeScript one with tsx, the executable (bin/*.js) as
 * users run it. Killed with the test process if left over. `launcher` runs node through a
 * command that execs it (e.g. `ip netns exec NS`), so the child's pid is node's.
 */
export function spawnTs(file: string, env: Record<string, string>, args: string[] = [], launcher: string[] = []): JsonProcess {
  const loader = file.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const command = [...launcher, process.execPath, ...loader, path.join(repoRoot, file), ...args];
  const child = spawn(command[0]!, command.slice(1), {
    cwd: repoRoot,
    env: { ...process.env, FLEETCAST_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const events: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      stderr.push(`(stdout) ${line}`);
    }
    for (const wake of waiters) wake();
  });
  readline.createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
      for (const wake of waiters) wake();
    }),
  );

  return {
    child,
    events,
    stderr,
    exited,
    kill: (signal = 'SIGKILL') => child.kill(signal),
    waitFor(match, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`timed out waiting for an event from ${file}; stderr:\n${stderr.join('\n')}`)), timeoutMs);
        const check = () => {
          const found = events.find(match);
          if (found) return finish(undefined, found);
          if (child.exitCode !== null || child.signalCode !== null) {
            finish(new Error(`${file} exited (${child.exitCode ?? child.signalCode}) before the event; stderr:\n${stderr.join('\n')}`));
          }
        };
        const finish = (err?: Error, event?: Record<string, unknown>) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (err) reject(err);
          else resolve(event!);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Live processes (other than this one) whose command line or environment names `dir`, or whose
 * working directory is under it: an installation's roles, NATS servers, builds and services.
 */
export function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const env = fs.readFileSync(`/proc/${entry}/environ`, 'utf8');
      const cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
      if (cmdline.includes(dir) || env.includes(dir) || cwd.startsWith(dir)) pids.push(Number(entry));
    } catch {
      // gone, or not ours
    }
  }
  return pids;
}
