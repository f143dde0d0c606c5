import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { backoffDelay } from '../lifecycle/index.ts';
import type { Logger } from '../logging/index.ts';
import { RotatingFile } from '../logging/rotating-file.ts';
import { projectFile } from '../lifecycle/project-files.ts';

const fleetcastBin = projectFile('bin', 'fleetcast.js');

/** One process of a local installation: what to run and how to tell it is ready. */
export interface RoleSpec {
  /** Unique in the installation, e.g. `coordinator`, `worker-1`, `agent-eu-2`; names the log file. */
  name: string;
  role: 'coordinator' | 'worker' | 'seeder' | 'agent' | 'dht' | 'bot';
  region?: string;
  machine?: string;
  /** Arguments of `fleetcast`, e.g. ['agent', '--region', 'eu', '--machine', 'eu-1']. */
  args: string[];
  /** FLEETCAST_* settings (the process inherits nothing else of fleetcast's from this one). */
  env: Record<string, string>;
  /** Ready once its log holds `"msg":"<role> ready"`, or this check passes. */
  ready?: () => Promise<boolean>;
}

export type RoleState = 'starting' | 'ready' | 'backing-off' | 'stopped';

export interface RoleProcessOptions {
  logDir: string;
  logger: Logger;
  /** First pause before a restart; doubles up to maxBackoffMs, as systemd's RestartSec would. @defaultValue 1_000 */
  minBackoffMs?: number;
  /** @defaultValue 30_000 */
  maxBackoffMs?: number;
  /** A process up this long has its backoff reset. @defaultValue 60_000 */
  stableAfterMs?: number;
  /** SIGTERM, then SIGKILL after this long. @defaultValue 10_000 */
  stopGraceMs?: number;
  /** Called after each restart (the pid changed). */
  onRestart?: () => void;
  /** Each log is kept in files of `maxBytes`, `keep` of them (FLEETCAST_AGENT_LOG_MAX, FLEETCAST_AGENT_LOG_KEEP). @defaultValue 10 MiB, 5 files */
  log?: { maxBytes: number; keep: number };
  /** What runs, `args` appended. @defaultValue this Node with bin/fleetcast.js */
  command?: string[];
}

/**
 * A supervised child: `fleetcast <args>` with its output in `<log dir>/<name>.log`, rotated by
 * size (`<name>.log.1`… the older part), restarted with a doubling backoff whenever it exits
 * until stop() is called. Children are told to exit when this process goes away
 * (FLEETCAST_EXIT_WITH_PARENT), so even a kill -9 of `fleetcast up` leaves no orphans behind;
 * their output therefore comes through pipes to this process, which writes the log.
 */
export class RoleProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;
  /** Exits since the process last stayed up `stableAfterMs`: the restart pause doubles with each. */
  private exitsInARow = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private readyNow = false;
  restarts = 0;
  readonly logFile: string;
  private readonly log: RotatingFile;

  constructor(
    readonly spec: RoleSpec,
    private readonly options: RoleProcessOptions,
  ) {
    this.logFile = path.join(options.logDir, `${spec.name}.log`);
    this.log = new RotatingFile({ file: this.logFile, maxBytes: options.log?.maxBytes ?? 10 << 20, keep: options.log?.keep ?? 5 });
  }

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  get state(): RoleState {
    if (this.stopping) return 'stopped';
    if (this.pid === undefined) return 'backing-off';
    return this.readyNow ? 'ready' : 'starting';
  }

  start(): void {
    this.stopping = false;
    fs.mkdirSync(this.options.logDir, { recursive: true });
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('FLEETCAST_')));
    const [executable, ...leading] = this.options.command ?? [process.execPath, fleetcastBin];
    const child = spawn(executable!, [...leading, ...this.spec.args], {
      env: { ...inherited, ...this.spec.env, FLEETCAST_EXIT_WITH_PARENT: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Read as it comes (never paused), so a chatty role is never held up by its log.
    const append = (chunk: Buffer) => {
      try {
        this.log.write(chunk);
      } catch (err) {
        this.options.logger.warn({ process: this.spec.name, err: (err as Error).message }, `could not write ${this.logFile}`);
      }
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    this.child = child;
    this.readyNow = false;
    this.startedAt = Date.now();
    // 'close': the output pipes are drained too, so a role's last words are in its log.
    this.exited = new Promise((resolve) => child.once('close', (code, signal) => {
      resolve();
      this.onExit(code, signal);
    }));
    child.once('error', () => undefined); // ends in 'exit' too
  }

  /** Whether it is ready now (remembered once seen, until it restarts). */
  async checkReady(): Promise<boolean> {
    if (this.readyNow) return true;
    if (this.pid === undefined) return false;
    this.readyNow = this.spec.ready ? await this.spec.ready().catch(() => false) : this.logSaysReady();
    return this.readyNow;
  }

  /**
   * No more restarts from now on. Called on every process before any is stopped: Ctrl-C reaches
   * the whole process group at once, and a child that exits before its turn must stay down.
   */
  holdRestarts(): void {
    this.stopping = true;
    clearTimeout(this.restartTimer);
  }

  async stop(): Promise<void> {
    this.holdRestarts();
    const child = this.child;
    if (!child || this.pid === undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), this.options.stopGraceMs ?? 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping) return;
    if (Date.now() - this.startedAt > (this.options.stableAfterMs ?? 60_000)) this.exitsInARow = 0;
    this.exitsInARow++;
    const delay = backoffDelay(this.exitsInARow, { initialMs: this.options.minBackoffMs ?? 1_000, maxMs: this.options.maxBackoffMs ?? 30_000 });
    this.restarts++;
    this.options.logger.warn(
      { process: this.spec.name, role: this.spec.role, code, signal, restartInMs: delay, log: this.logFile },
      `${this.spec.name} exited (${signal ?? `code ${code}`}); restarting in ${delay / 1000} s — its log: ${this.logFile}`,
    );
    this.restartTimer = setTimeout(() => {
      this.start();
      this.options.onRestart?.();
    }, delay);
  }

  private logSaysReady(): boolean {
    // Only this run's lines: the log is appended to across restarts (and may have just rotated).
    return [this.logFile, `${this.logFile}.1`].some((file) => {
      try {
        const lines = fs.readFileSync(file, 'utf8').split('\n');
        return lines.some((line) => line.includes(`"pid":${this.pid},`) && line.includes(`"msg":"${this.spec.role} ready"`));
      } catch {
        return false;
      }
    });
  }
}
