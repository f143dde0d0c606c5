import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent } from 'undici';
import { onlyJson, runCli, type CliRun } from './cli.ts';
import { FakeSlack } from './fake-slack.ts';
import { processesUnder, spawnTs, type JsonProcess } from './processes.ts';
import { SlackRequests } from './slack-requests.ts';
import { upFilePath, type UpFile } from '../../up/index.ts';

export interface UpInstallationOptions {
  regions: string[];
  agentsPerRegion: number;
  /** FLEETCAST_* settings `up` passes on to its processes (permissions, webhook secret…). */
  env?: Record<string, string>;
  /** Written to `<dir>/permissions.json` and given as FLEETCAST_PERMISSIONS. */
  permissions?: Record<string, unknown>;
  /** `fleetcast up --ha`: clustered NATS and 2 coordinators. */
  ha?: boolean;
}

/**
 * `fleetcast up` as a user runs it (the real executable, every role its own process) in a new
 * directory; `stop()` sends SIGTERM, then kills whatever of the installation is left and
 * removes the directory.
 */
export class UpInstallation {
  private constructor(
    readonly dir: string,
    readonly file: UpFile,
    private readonly up: JsonProcess,
    private readonly extra: JsonProcess[],
  ) {}

  /** The installation's CA (`up.json`'s `ca`): it signed the coordinator's certificate. */
  get ca(): Buffer {
    return fs.readFileSync(this.file.ca!);
  }

  private trusting: Agent | undefined;

  /** fetch against the installation's https:// API, trusting its CA as its clients do. */
  fetch(url: string, init: RequestInit = {}): Promise<Response> {
    this.trusting ??= new Agent({ connect: { ca: this.ca } });
    return fetch(url, { ...init, ...{ dispatcher: this.trusting } });
  }

  static async start(options: UpInstallationOptions): Promise<UpInstallation> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-e2e-'));
    const env: Record<string, string> = { ...options.env };
    if (options.permissions) {
      const file = path.join(dir, 'permissions.json');
      fs.writeFileSync(file, JSON.stringify(options.permissions));
      env.FLEETCAST_PERMISSIONS = file;
    }
    const up = spawnTs('bin/fleetcast.js', { FLEETCAST_LOG_LEVEL: 'warn', ...env }, [
      'up', '--dir', path.join(dir, 'fleet'), '--regions', options.regions.join(','), '--agents', String(options.agentsPerRegion), '--workers', '1',
      ...(options.ha ? ['--ha'] : []),
    ]);
    const upJson = upFilePath(path.join(dir, 'fleet'));
    try {
      const file = await poll(() => {
        if (up.child.exitCode !== null) throw new Error(`fleetcast up exited ${up.child.exitCode}:\n${up.stderr.join('\n')}`);
        return fs.existsSync(upJson) && (JSON.parse(fs.readFileSync(upJson, 'utf8')) as UpFile);
      }, 120_000, 'up.json');
      return new UpInstallation(path.join(dir, 'fleet'), file, up, []);
    } catch (err) {
      await new UpInstallation(path.join(dir, 'fleet'), {} as UpFile, up, []).stop();
      throw err;
    }
  }

  /** `fleetcast ARGS --json` against this installation (found through FLEETCAST_DATA_DIR). */
  cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
    return runCli(args, { FLEETCAST_DATA_DIR: this.dir, ...env });
  }

  /** The one JSON document of a `--json` run that must exit `code`. */
  async json(args: string[], code = 0): Promise<any> {
    const run = await this.cli([...args, '--json']);
    if (run.code !== code) throw new Error(`fleetcast ${args.join(' ')} exited ${run.code}, not ${code}:\n${run.stdout}\n${run.stderr}`);
    return onlyJson(run);
  }

  /** The creds file of a NATS identity `up` issued (`coordinator`, `agent-eu-eu-1`, `seeder-eu-1`). */
  natsCreds(name = 'coordinator'): string {
    return path.join(this.dir, 'nats-identities', 'creds', `${name}.nk`);
  }

  /** The coordinator's API with the admin token (or another). */
  async api(method: string, url: string, body?: unknown, token = this.file.token): Promise<{ status: number; json: any }> {
    const response = await this.fetch(`${this.file.apiUrl}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : null };
  }

  /** Machines (`eu-1`…) of the installation. */
  get machines(): string[] {
    return this.file.processes.filter((p) => p.role === 'agent').map((p) => p.machine!);
  }

  /** What each agent has installed as `current` for a service: the build and the sha256 of its artifact. */
  installed(service: string, fileName = 'app'): Record<string, { build: string; sha256: string } | null> {
    const result: Record<string, { build: string; sha256: string } | null> = {};
    for (const machine of this.machines) {
      const current = path.join(this.dir, 'agents', machine, 'services', service, 'current');
      try {
        const build = path.basename(fs.readlinkSync(current));
        result[machine] = { build, sha256: createHash('sha256').update(fs.readFileSync(path.join(current, fileName))).digest('hex') };
      } catch {
        result[machine] = null;
      }
    }
    return result;
  }

  /**
   * `fleetcast bot` as its own process in HTTP mode against this coordinator, Slack faked at
   * its boundary; resolves once it said 'bot ready'.
   */
  async startBot(options: { apiToken: string; signingSecret: string; slack: FakeSlack }): Promise<SlackRequests> {
    const bot = spawnTs('bin/fleetcast.js', {
      FLEETCAST_LOG_LEVEL: 'info',
      FLEETCAST_DATA_DIR: this.dir,
      FLEETCAST_API_TOKEN: options.apiToken,
      FLEETCAST_SLACK_BOT_TOKEN: 'xoxb-e2e-bot-token',
      FLEETCAST_SLACK_SIGNING_SECRET: options.signingSecret,
      FLEETCAST_SLACK_API_URL: options.slack.apiUrl,
      FLEETCAST_BOT_LISTEN: '127.0.0.1:0',
      FLEETCAST_PERMISSIONS: path.join(path.dirname(this.dir), 'permissions.json'),
    }, ['bot']);
    this.extra.push(bot);
    const ready = await poll(() => {
      if (bot.child.exitCode !== null) throw new Error(`fleetcast bot exited ${bot.child.exitCode}:\n${bot.stderr.join('\n')}`);
      for (const line of bot.stderr) {
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.msg === 'bot ready') return entry;
        } catch {
          // not a log line
        }
      }
      return undefined;
    }, 30_000, 'the bot to be ready');
    return new SlackRequests(ready.url!, options.signingSecret);
  }

  async stop(): Promise<void> {
    await this.trusting?.close();
    for (const child of [...this.extra, this.up]) {
      child.kill('SIGTERM');
      await Promise.race([child.exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
      child.kill('SIGKILL');
    }
    const root = path.dirname(this.dir);
    for (const pid of processesUnder(root)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** The story's sample service: a script that prints its version and stays up, padded so the agents share blocks. */
export function storyBuildScript(paddingBytes: number): string {
  return [
    '#!/bin/sh',
    'set -e',
    'mkdir -p "$(dirname "$FLEETCAST_OUT")"',
    '{',
    "  printf '#!/bin/sh\\necho \"story %s running as %s\"\\nexec sleep 1000000\\n' \"$(cat VERSION)\" \"$FLEETCAST_BUILD_ID\"",
    `  head -c ${paddingBytes} /dev/urandom | od -An -tx1 | head -c ${paddingBytes} | sed 's/^/# /'`,
    '} > "$FLEETCAST_OUT"',
    'chmod +x "$FLEETCAST_OUT"',
    '',
  ].join('\n');
}

/** Polls `check` every 100 ms until it returns a value; a thrown error ends the wait at once. */
export async function poll<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
