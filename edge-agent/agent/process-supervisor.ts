import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { humanDuration } from '../../config/index.ts';
import { backoffDelay } from '../../lifecycle/index.ts';
import type { Logger } from '../../logging/index.ts';
import { startLogWriter, type LogWriterProcess } from '../../logging/log-writer-process.ts';
import { readJson, writeJsonDurably } from './durable-json.ts';
import { groupAlive, isAlive, isSameProcess, processStartTicks, signalGroup } from './process-identity.ts';

/** What to run: a service's run command for one build. */
export interface RunSpec {
  build: string;
  /** The build's directory: the command's working directory. */
  dir: string;
  /** Run through /bin/sh -c. */
  command: string;
  /** The whole environment of the command. */
  env: Record<string, string>;
  /**
   * stdout and stderr go here. With `log`, through a pipe to a `fleetcast log-writer` process
   * that rotates the file by size and, like the service, outlives the agent; without, the
   * file is appended to directly and grows without limit.
   */
  logFile: string;
  /** Rotation: files of `maxBytes`, `keep` of them (FLEETCAST_AGENT_LOG_MAX, FLEETCAST_AGENT_LOG_KEEP). */
  log?: { maxBytes: number; keep: number };
  /** Run as this user (FLEETCAST_SERVICE_USER); unset: as the agent's. */
  user?: { uid: number; gid: number };
}

export interface ProcessExit {
  build: string;
  pid: number;
  /** null when unknown: a process adopted from a previous agent is not our child. */
  code: number | null;
  signal: NodeJS.Signals | null;
  adopted: boolean;
  uptimeMs: number;
  /** `exited with code 3`, `was killed by SIGSEGV`, `exited (exit status unknown: adopted from a previous agent)`. */
  description: string;
}

/** One process being watched. */
export interface ProcessRun {
  build: string;
  pid: number;
  adopted: boolean;
  /** Resolves when it ends by itself or is stopped. */
  exited: Promise<ProcessExit>;
}

export interface ProcessSupervisorOptions {
  /** The pid file: survives the agent, so the next agent adopts the process instead of starting a second one. */
  recordFile: string;
  /** Between SIGTERM and SIGKILL of the process group. @defaultValue 10_000 */
  stopGraceMs?: number;
  /** First pause before restarting a process that exited; it doubles per exit in a row. @defaultValue 1_000 */
  restartMinMs?: number;
  /** @defaultValue 30_000 */
  restartMaxMs?: number;
  /** A process up this long counts as stable: the next exit restarts after restartMinMs again. @defaultValue 60_000 */
  stableAfterMs?: number;
  /** How often an adopted process (not our child: no exit event) is looked at. @defaultValue 500 */
  adoptPollMs?: number;
  /** The process ended by itself; `restartInMs` is when it starts again. */
  onExit?: (exit: ProcessExit, restartInMs: number) => void;
  /** It was started again after an exit. */
  onRestart?: (run: ProcessRun, restarts: number) => void;
  logger: Logger;
}

const recordSchema = z.object({
  v: z.literal(1),
  pid: z.number().int().positive(),
  build: z.string(),
  startTicks: z.string().nullable(),
  startedAt: z.string(),
  command: z.string(),
});

/** After a process exits, how long a reader of its last lines waits for its log writer (which may still be starting). */
const logFlushWaitMs = 3_000;

/** After SIGKILL, how long to wait for the group to be gone (unreaped orphans can linger as zombies). */
const killWaitMs = 2_000;

interface Tracked extends ProcessRun {
  alive(): boolean;
  startedAtMs: number;
  stopping: boolean;
  /** Stops watching without touching the process. */
  release(): void;
}

/**
 * Runs one service's command at a time, each in its own process group (so stopping it stops
 * everything it started), restarts it with a doubling pause when it exits, stops it with
 * SIGTERM then SIGKILL after a grace, and records it in a pid file with its start time.
 *
 * Restart survival: the process does not die with its agent (own group, output to a file).
 * A new agent calls adopt(): if the recorded pid is still the recorded process it is watched
 * again (by polling, it is not our child), otherwise it is cleaned up — so a service never runs
 * twice. One window is left: a crash between spawn and the pid file's write.
 */
export class ProcessSupervisor {
  private tracked: Tracked | undefined;
  private spec: RunSpec | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private exitsInARow = 0;
  /** Bumped by start(), stop() and each exit: work scheduled under an older one is void. */
  private generation = 0;
  private spawning: Promise<unknown> = Promise.resolve();
  private restarts = 0;
  /** Ends when the log writer of the last process started ends. */
  private lastWriter: Promise<void> | undefined;
  private readonly logger: Logger;

  constructor(private readonly options: ProcessSupervisorOptions) {
    this.logger = options.logger;
  }

  /** What runs now, if anything. */
  get running(): ProcessRun | undefined {
    return this.tracked;
  }

  /**
   * Resolves once the output of the last process started is all in its log: its log writer
   * has ended (it does when the process and whatever it started are gone), or after
   * logFlushWaitMs. For reading the last lines of a process that just exited.
   */
  async outputWritten(): Promise<void> {
    if (!this.lastWriter) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.lastWriter, new Promise<void>((resolve) => (timer = setTimeout(resolve, logFlushWaitMs)))]);
    clearTimeout(timer);
  }

  /** Stops whatever runs, then starts `spec`. */
  async start(spec: RunSpec): Promise<ProcessRun> {
    await this.stop();
    this.generation++;
    this.spec = spec;
    this.exitsInARow = 0;
    this.restarts = 0;
    return this.spawn(spec);
  }

  /**
   * Takes over the process a previous agent recorded, if it still runs `spec.build`; a recorded
   * process of another build, or the leftovers of a dead one, are stopped. Undefined when
   * nothing was adopted.
   */
  async adopt(spec: RunSpec): Promise<ProcessRun | undefined> {
    const record = await readJson(this.options.recordFile, recordSchema);
    if (!record) return undefined;
    if (!isSameProcess(record.pid, record.startTicks)) {
      await this.killOrphans(record.pid);
      await this.removeRecord();
      return undefined;
    }
    const tracked = this.watchAdopted(record.pid, record.build, record.startTicks, Date.parse(record.startedAt));
    if (record.build !== spec.build) {
      this.logger.info({ build: record.build, servicePid: record.pid }, `a previous agent left ${record.build} running; stopping it`);
      await this.stop();
      return undefined;
    }
    this.spec = spec;
    this.logger.info({ build: record.build, servicePid: record.pid }, `adopted the running process of ${record.build} (pid ${record.pid}) from a previous agent`);
    return tracked;
  }

  /**
   * SIGTERM to the group, SIGKILL after the grace; resolves when it is gone. No restart follows.
   * With nothing watched, a process a previous agent recorded (and left running) is stopped:
   * after stop(), nothing of this service runs.
   */
  async stop(): Promise<void> {
    this.generation++;
    this.spec = undefined;
    clearTimeout(this.restartTimer);
    if (!this.tracked) {
      const record = await readJson(this.options.recordFile, recordSchema);
      if (record && isSameProcess(record.pid, record.startTicks)) this.watchAdopted(record.pid, record.build, record.startTicks, Date.parse(record.startedAt));
      else if (record) await this.killOrphans(record.pid);
    }
    const tracked = this.tracked;
    if (!tracked) {
      await this.removeRecord();
      return;
    }
    tracked.stopping = true;
    const grace = this.options.stopGraceMs ?? 10_000;
    signalGroup(tracked.pid, 'SIGTERM');
    const deadline = Date.now() + grace;
    while (tracked.alive() && Date.now() < deadline) await sleep(25);
    if (tracked.alive() || groupAlive(tracked.pid)) {
      if (tracked.alive()) this.logger.warn({ build: tracked.build, servicePid: tracked.pid }, `the process of ${tracked.build} did not stop within ${humanDuration(grace)} of SIGTERM; killing it`);
      await this.killGroup(tracked.pid);
    }
    await tracked.exited;
    tracked.release();
    if (this.tracked === tracked) this.tracked = undefined;
    await this.removeRecord();
  }

  /**
   * Stops watching and leaves the process running, with its pid file, for the next agent to
   * adopt (an agent restart or upgrade is no service outage).
   */
  async detach(): Promise<void> {
    this.generation++;
    clearTimeout(this.restartTimer);
    this.spec = undefined;
    // A restart in flight must have written its pid file, or the next agent would not know it.
    await this.spawning;
    this.tracked?.release();
    this.tracked = undefined;
  }

  private spawn(spec: RunSpec): Promise<ProcessRun> {
    const spawning = this.spawnRecorded(spec);
    this.spawning = spawning.catch(() => undefined);
    return spawning;
  }

  private async spawnRecorded(spec: RunSpec): Promise<ProcessRun> {
    // The logs stay the agent's: a service user passes through the agent dir, and must not read other services' output.
    await fsp.mkdir(path.dirname(spec.logFile), { recursive: true, mode: 0o700 });
    // The service holds the only write end of its log's pipe: the writer sees the end of the
    // output (and writes its tail) only once the service and whatever it started are gone.
    // The file exists from the start, whatever the service prints (the status names it).
    fs.closeSync(fs.openSync(spec.logFile, 'a', 0o600));
    const writer: LogWriterProcess | undefined = spec.log ? startLogWriter({ file: spec.logFile, ...spec.log }) : undefined;
    const out = writer ? writer.input : fs.openSync(spec.logFile, 'a', 0o600);
    let child: ChildProcess;
    try {
      child = spawn('/bin/sh', ['-c', spec.command], { cwd: spec.dir, env: spec.env, detached: true, stdio: ['ignore', out, out], ...spec.user });
    } finally {
      if (writer) writer.input.destroy();
      else fs.closeSync(out as number);
    }
    const startedAtMs = Date.now();
    // The output is all in the log once the writer ends (when the pipe's last holder does).
    this.lastWriter = writer ? new Promise<void>((resolve) => writer.process.once('exit', () => resolve())) : undefined;
    const exited = new Promise<ProcessExit>((resolve) => {
      child.once('error', (err) => {
        this.logger.error({ err, build: spec.build }, `could not start the run command of ${spec.build}`);
        resolve(exitOf(spec.build, child.pid ?? 0, null, null, false, startedAtMs, `could not be started (${err.message})`));
      });
      child.once('exit', (code, signal) => resolve(exitOf(spec.build, child.pid!, code, signal, false, startedAtMs)));
    });
    const pid = child.pid ?? 0;
    const tracked: Tracked = {
      build: spec.build,
      pid,
      adopted: false,
      exited,
      startedAtMs,
      stopping: false,
      alive: () => child.exitCode === null && child.signalCode === null && pid > 0,
      release: () => child.unref(),
    };
    this.tracked = tracked;
    if (pid > 0) {
      await writeJsonDurably(this.options.recordFile, {
        v: 1,
        pid,
        build: spec.build,
        startTicks: processStartTicks(pid),
        startedAt: new Date(startedAtMs).toISOString(),
        command: spec.command,
      } satisfies z.infer<typeof recordSchema>);
      this.logger.info({ build: spec.build, servicePid: pid }, `started ${spec.build}: ${spec.command}`);
    }
    void exited.then((exit) => this.onExited(tracked, exit));
    return tracked;
  }

  private watchAdopted(pid: number, build: string, startTicks: string | null, startedAtMs: number): Tracked {
    let resolveExit!: (exit: ProcessExit) => void;
    const exited = new Promise<ProcessExit>((resolve) => (resolveExit = resolve));
    let ended = false;
    // Not our child, so no exit event: looking is how we learn it ended (and stop() looks often).
    const alive = () => {
      if (ended) return false;
      if (isSameProcess(pid, startTicks)) return true;
      ended = true;
      clearInterval(timer);
      resolveExit(exitOf(build, pid, null, null, true, startedAtMs));
      return false;
    };
    const timer = setInterval(alive, this.options.adoptPollMs ?? 500);
    const tracked: Tracked = { build, pid, adopted: true, exited, startedAtMs, stopping: false, alive, release: () => clearInterval(timer) };
    this.tracked = tracked;
    void exited.then((exit) => this.onExited(tracked, exit));
    return tracked;
  }

  private onExited(tracked: Tracked, exit: ProcessExit): void {
    if (tracked.stopping || this.tracked !== tracked) return;
    this.tracked = undefined;
    const generation = ++this.generation;
    // Whatever it started goes with it before anything starts again: never two at once. And its
    // last output is in the log before the restart pause begins, so a switch being checked reads
    // it (and reverts) before a restart could run the build again.
    void this.killGroup(tracked.pid).then(async () => {
      await this.outputWritten();
      // A start() or stop() since then owns what happens next.
      if (generation !== this.generation) return;
      const spec = this.spec;
      if (!spec || spec.build !== tracked.build) {
        await this.removeRecord();
        return;
      }
      if (exit.uptimeMs >= (this.options.stableAfterMs ?? 60_000)) this.exitsInARow = 0;
      this.exitsInARow += 1;
      const delay = backoffDelay(this.exitsInARow, { initialMs: this.options.restartMinMs ?? 1_000, maxMs: this.options.restartMaxMs ?? 30_000 });
      this.logger.warn({ build: exit.build, servicePid: exit.pid, code: exit.code, signal: exit.signal, exitsInARow: this.exitsInARow, restartInMs: delay }, `the process of ${exit.build} ${exit.description}; restarting in ${humanDuration(delay)}`);
      this.options.onExit?.(exit, delay);
      this.restartTimer = setTimeout(() => {
        if (generation !== this.generation) return;
        void this.spawn(spec).then((run) => {
          this.restarts += 1;
          this.options.onRestart?.(run, this.restarts);
        });
      }, delay);
    });
  }

  /**
   * The children a dead recorded process left in its group. Only when the pid is not in use
   * again: Linux does not hand out a pid that is still some group's id, so a reused pid means
   * our group is empty — and its group is somebody else's.
   */
  private async killOrphans(pid: number): Promise<void> {
    if (!isAlive(pid) && groupAlive(pid)) await this.killGroup(pid);
  }

  private async killGroup(pgid: number): Promise<void> {
    signalGroup(pgid, 'SIGKILL');
    const deadline = Date.now() + killWaitMs;
    while (groupAlive(pgid) && Date.now() < deadline) await sleep(25);
  }

  private async removeRecord(): Promise<void> {
    await fsp.rm(this.options.recordFile, { force: true });
  }
}

function exitOf(build: string, pid: number, code: number | null, signal: NodeJS.Signals | null, adopted: boolean, startedAtMs: number, description?: string): ProcessExit {
  return {
    build,
    pid,
    code,
    signal,
    adopted,
    uptimeMs: Date.now() - startedAtMs,
    description:
      description ??
      (adopted ? 'exited (exit status unknown: adopted from a previous agent)' : signal ? `was killed by ${signal}` : `exited with code ${code}`),
  };
}
