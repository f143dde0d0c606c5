import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { humanDuration } from '../../config/index.ts';
import { FleetcastError } from '../../errors/index.ts';
import type { Logger } from '../../logging/index.ts';
import { RotatingFile } from '../../logging/rotating-file.ts';
import type { AgentLayout } from './agent-layout.ts';
import type { InstalledBuild } from './build-cache.ts';
import { logTail } from './log-tail.ts';
import { signalGroup } from './process-identity.ts';
import { serviceEnvironment, type Activation, type ServiceIdentity, type ServiceRunner } from './service-runner.ts';

export interface HookRunnerOptions {
  /** The command (FLEETCAST_AGENT_RUN_HOOK), through /bin/sh -c in the build's directory. */
  hook: string;
  /** A hook running longer is killed and the switch fails. @defaultValue 300_000 */
  timeoutMs?: number;
  /** Rotation of the hook's own output in the build's log (the service's output is its system's). @defaultValue 10 MiB, 5 files */
  log?: { maxBytes: number; keep: number };
}

/**
 * Hands the switch to something else that runs services (systemd, a container runtime): after
 * `current` points at the new build, the hook runs with the build's identity, directory and
 * artifact in its environment; exit 0 means the build is running. The agent runs no process
 * itself, so restarts and stops are the hook's system's business, and an agent restart
 * changes nothing. So is the service's output: systemd hands it to journald, which bounds it
 * (SystemMaxUse=); the build's log file here holds only what the hook printed.
 */
export class HookRunner implements ServiceRunner {
  constructor(
    private readonly identity: ServiceIdentity,
    private readonly layout: AgentLayout,
    private readonly options: HookRunnerOptions,
    private readonly logger: Logger,
  ) {}

  async restore(): Promise<void> {
    // The hook's system kept running the current build.
  }

  async deactivate(): Promise<void> {
    // The next build's hook call replaces it.
  }

  async activate(build: InstalledBuild): Promise<Activation> {
    const { goal } = build;
    const logFile = this.layout.logFile(this.identity.service, goal.build);
    await fsp.mkdir(path.dirname(logFile), { recursive: true, mode: 0o700 });
    const env = serviceEnvironment(this.identity, goal.build, {
      FLEETCAST_BUILD_DIR: build.dir,
      FLEETCAST_ARTIFACT: build.file,
      ...(goal.runCommand ? { FLEETCAST_RUN_COMMAND: goal.runCommand } : {}),
    });
    const timeoutMs = this.options.timeoutMs ?? 300_000;
    const log = new RotatingFile({ file: logFile, maxBytes: this.options.log?.maxBytes ?? 10 << 20, keep: this.options.log?.keep ?? 5 });
    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; timedOut: boolean; error?: Error }>((resolve) => {
      let timedOut = false;
      // The agent waits for the hook anyway: it reads the hook's output itself, into a rotated file.
      const child = spawn('/bin/sh', ['-c', this.options.hook], { cwd: build.dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      const append = (chunk: Buffer) => {
        try {
          log.write(chunk);
        } catch (err) {
          this.logger.warn({ err, build: goal.build }, `could not write the run hook's output to ${logFile}`);
        }
      };
      child.stdout!.on('data', append);
      child.stderr!.on('data', append);
      const timer = setTimeout(() => {
        timedOut = true;
        signalGroup(child.pid!, 'SIGKILL');
      }, timeoutMs);
      child.once('error', (error) => {
        clearTimeout(timer);
        resolve({ code: null, signal: null, timedOut, error });
      });
      // 'close': the output pipes are drained too, so the hook's last words are in the log.
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, timedOut });
      });
    });
    log.close();
    if (result.code === 0) {
      this.logger.info({ build: goal.build }, `run hook switched to ${goal.build}`);
      return { exited: null };
    }
    const what = result.error
      ? `could not be started (${result.error.message})`
      : result.timedOut
        ? `ran longer than ${humanDuration(timeoutMs)} and was killed`
        : result.signal
          ? `was killed by ${result.signal}`
          : `exited with code ${result.code}`;
    const tail = await logTail(logFile);
    throw new FleetcastError('HEALTH_CHECK_FAILED', `the run hook for ${goal.build} (${this.options.hook}) ${what}${tail ? `; its last output: ${tail}` : ''}`, { build: goal.build, code: result.code });
  }

  watch(): void {
    // The hook's system restarts what it runs; nothing to tell.
  }

  lastLines(build: string): Promise<string> {
    return logTail(this.layout.logFile(this.identity.service, build));
  }

  /** The hook's system has the service's output; for systemd, the unit the hook names. */
  logLocation(build: string): string {
    const unit = systemdUnit(this.options.hook, build);
    return unit ? `journald: journalctl -u ${unit}` : `the run hook's system (${this.options.hook.slice(0, 200)}); the hook's own output: ${this.layout.logFile(this.identity.service, build)}`;
  }

  async close(): Promise<void> {
    // Nothing of ours runs.
  }
}

/**
 * The unit a `systemctl [options] (re)start|reload-or-restart UNIT` hook starts, with
 * `$FLEETCAST_BUILD_ID` (or `${FLEETCAST_BUILD_ID}`) filled in; undefined for any other hook.
 */
export function systemdUnit(hook: string, build: string): string | undefined {
  const match = /\bsystemctl\s+(?:--?[\w-]+(?:=\S+)?\s+)*(?:re)?start|\bsystemctl\s+(?:--?[\w-]+(?:=\S+)?\s+)*(?:try-)?reload-or-restart/.exec(hook);
  if (!match) return undefined;
  const unit = hook.slice(match.index + match[0].length).trim().split(/\s+/)[0]?.replace(/^["']|["';&|]+$/g, '');
  if (!unit) return undefined;
  return unit.replace(/\$\{?FLEETCAST_BUILD_ID\}?/g, build);
}
