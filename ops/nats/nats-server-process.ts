import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface NatsServerProcessOptions {
  /** Names the server in messages, e.g. `hub` or `leaf-eu`. */
  name: string;
  configFile: string;
  /** stdout and stderr of the server are appended here. */
  logFile: string;
  /** The server's monitoring address, e.g. `http://127.0.0.1:8222`. */
  monitorUrl: string;
  /** @defaultValue {@link findNatsServer}() */
  binary?: string;
}

const running = new Set<ChildProcess>();

/** One nats-server process started from a config file, stoppable and startable again. */
export class NatsServerProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;

  constructor(readonly options: NatsServerProcessOptions) {}

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the server and waits until its monitoring endpoint reports it healthy (JetStream ready). */
  async start(readyTimeoutMs = 20_000): Promise<void> {
    if (this.running) return;
    const { name, configFile, logFile } = this.options;
    killStale(configFile);
    const log = fs.openSync(logFile, 'a');
    const child = spawn(this.options.binary ?? findNatsServer(), ['-c', configFile], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    if (child.pid) fs.writeFileSync(pidFile(configFile), `${child.pid}\n`);
    this.child = child;
    running.add(child);
    this.exited = new Promise((resolve) => child.once('exit', () => {
      running.delete(child);
      resolve();
    }));
    child.once('error', () => undefined); // spawn errors also end in 'exit'; the wait below reports them
    await this.waitFor('/healthz', async (res) => res.ok, readyTimeoutMs, `${name} to become healthy`);
  }

  /**
   * Stops the server: SIGTERM lets it flush JetStream and close its leaf links (SIGKILL after
   * 10 s); `kill: true` sends SIGKILL at once, the crash tests simulate.
   */
  async stop(options: { kill?: boolean } = {}): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill(options.kill ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  /**
   * Re-reads the config (SIGHUP) and waits until the server has loaded it: changed users and
   * permissions apply to new and existing connections (a removed user's are closed), the
   * others stay connected.
   */
  async reload(timeoutMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const loadedAt = async () => ((await (await fetch(this.options.monitorUrl + '/varz', { signal: AbortSignal.timeout(1_000) })).json()) as { config_load_time?: string }).config_load_time;
    const before = await loadedAt();
    child.kill('SIGHUP');
    await this.waitFor('/varz', async (res) => ((await res.json()) as { config_load_time?: string }).config_load_time !== before, timeoutMs, `${this.options.name} to reload its config`);
  }

  /** Polls a monitoring endpoint until `ready` accepts its answer. */
  async waitFor(endpoint: string, ready: (res: Response) => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    for (;;) {
      if (!this.running) {
        throw new Error(`nats-server ${this.options.name} exited while waiting for ${what}; its log (${this.options.logFile}):\n${tail(this.options.logFile)}`);
      }
      try {
        const res = await fetch(this.options.monitorUrl + endpoint, { signal: AbortSignal.timeout(1_000) });
        if (await ready(res)) return;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${last}); log ${this.options.logFile}:\n${tail(this.options.logFile)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Leaf-node connections the server currently has (both directions). */
  async leafConnections(): Promise<number> {
    const res = await fetch(this.options.monitorUrl + '/leafz', { signal: AbortSignal.timeout(1_000) });
    const body = (await res.json()) as { leafnodes?: number };
    return body.leafnodes ?? 0;
  }
}

/** `FLEETCAST_NATS_SERVER`, else `nats-server` on the PATH, else Debian's `/usr/sbin/nats-server`. */
export function findNatsServer(): string {
  const configured = process.env.FLEETCAST_NATS_SERVER;
  if (configured) return configured;
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/local/bin'];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = path.join(dir, 'nats-server');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error('nats-server not found: install it (apt-get install nats-server, or bash ops/ensure-services.sh) or set FLEETCAST_NATS_SERVER to its path');
}

function pidFile(configFile: string): string {
  return `${configFile}.pid`;
}

/**
 * A server left running on this config by an owner that was killed -9 (its exit handler never
 * ran) holds the ports and the store: stop it before starting again. Only a process whose
 * command line names this very config file is touched.
 */
function killStale(configFile: string): void {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile(configFile), 'utf8').trim());
  } catch {
    return;
  }
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (cmdline.some((arg) => arg.endsWith('nats-server')) && cmdline.includes(configFile)) {
      process.kill(pid, 'SIGKILL');
      // Its store and ports are free once it is gone: wait for that (a few ms), at most 2 s.
      for (let waited = 0; waited < 2_000 && fs.existsSync(`/proc/${pid}`); waited += 20) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  } catch {
    // gone already, or not ours to look at
  }
  fs.rmSync(pidFile(configFile), { force: true });
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

// A test or script that dies must not leave servers behind holding ports and store dirs.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
