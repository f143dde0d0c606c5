import { spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './processes.ts';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  /** What the process printed so far. */
  output(): { stdout: string; stderr: string };
  done: Promise<CliRun>;
  /** @defaultValue SIGKILL */
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Runs the real executable, `node bin/fleetcast.js ARGS`, with only the FLEETCAST_ settings
 * given (none inherited from the developer's shell), and collects what it prints.
 */
export function startCli(args: string[], env: Record<string, string>, options: { /** Killed (SIGKILL) after this long. @defaultValue 30_000 */ timeoutMs?: number } = {}): RunningCli {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('FLEETCAST_')));
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/fleetcast.js'), ...args], {
    cwd: repoRoot,
    env: { ...inherited, FLEETCAST_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const done = new Promise<CliRun>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
  return { output: () => ({ stdout, stderr }), done, kill: (signal = 'SIGKILL') => child.kill(signal) };
}

export function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  return startCli(args, env).done;
}

/** The one JSON document a `--json` run printed; fails if stdout holds anything else. */
export function onlyJson(run: CliRun): any {
  try {
    return JSON.parse(run.stdout);
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}
