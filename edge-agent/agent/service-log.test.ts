// The output of supervised services, bounded: a `fleetcast log-writer` process per service
// process rotates its log by size, outlives the agent with the service, never holds the service
// up, and writes the service's last words. And with a systemd run hook the status points at
// journald instead.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../logging/index.ts';
import { RotatingFile } from '../../logging/rotating-file.ts';
import { AgentLayout } from './agent-layout.ts';
import { BuildCache } from './build-cache.ts';
import { HookRunner, systemdUnit } from './hook-runner.ts';
import { logTail } from './log-tail.ts';
import { isAlive } from './process-identity.ts';
import { ProcessSupervisor, type RunSpec } from './process-supervisor.ts';

const MiB = 1 << 20;
let dir: string;
const supervisors: ProcessSupervisor[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-service-log-'));
});

afterEach(async () => {
  for (const supervisor of supervisors.splice(0)) await supervisor.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function supervisor(): ProcessSupervisor {
  const s = new ProcessSupervisor({ recordFile: path.join(dir, 'process.json'), stopGraceMs: 5_000, restartMinMs: 50, adoptPollMs: 50, logger: silentLogger() });
  supervisors.push(s);
  return s;
}

function spec(command: string, log: RunSpec['log']): RunSpec {
  const buildDir = path.join(dir, 'b1');
  fs.mkdirSync(buildDir, { recursive: true });
  return { build: 'b1', dir: buildDir, command, env: { PATH: process.env.PATH! }, logFile: path.join(dir, 'logs', 'b1.log'), log };
}

/** Bytes of every file in the logs folder, now. */
function logBytes(): number {
  const logs = path.join(dir, 'logs');
  if (!fs.existsSync(logs)) return 0;
  let total = 0;
  for (const name of fs.readdirSync(logs)) total += fs.statSync(path.join(logs, name), { throwIfNoEntry: false })?.size ?? 0;
  return total;
}

/** The pids of log writers writing `file`. */
function logWriters(file: string): number[] {
  return fs.readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    const cmdline = (() => {
      try {
        return fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      } catch {
        return [];
      }
    })();
    return cmdline.includes('log-writer') && cmdline.includes(file) ? [Number(entry)] : [];
  });
}

async function eventually(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('service logs', () => {
  it('a service that writes 1 GiB of output keeps at most FLEETCAST_AGENT_LOG_KEEP x FLEETCAST_AGENT_LOG_MAX on disk, and its last line', async () => {
    const log = { maxBytes: 4 * MiB, keep: 3 };
    const s = supervisor();
    const run = await s.start(spec(`yes 'a line of output from a chatty service' | head -c ${1024 * MiB}; echo; echo 'THE END'; exec sleep 600`, log));
    const file = path.join(dir, 'logs', 'b1.log');
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, logBytes())), 10);
    try {
      // The file may be renamed to .log.1 between any two looks at it (rotation): missing is "not yet".
      await eventually(() => {
        try {
          return fs.readFileSync(file, 'utf8').endsWith('THE END\n');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
          throw err;
        }
      }, 180_000, 'the end of 1 GiB of output in the log');
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, logBytes());
    expect(peak, `${peak} bytes of logs on disk at the most`).toBeLessThanOrEqual(log.keep * log.maxBytes);
    expect(RotatingFile.files(file, log.keep)).toEqual([file, `${file}.1`, `${file}.2`]);
    expect(fs.readdirSync(path.join(dir, 'logs')).sort()).toEqual(['b1.log', 'b1.log.1', 'b1.log.2']);
    // Rotated at line breaks: every file is whole lines.
    expect(fs.readFileSync(`${file}.1`, 'utf8').split('\n').slice(0, -1).every((line) => line === 'a line of output from a chatty service')).toBe(true);
    // The service was never held up or killed by its log: it went on to its next command.
    expect(isAlive(run.pid)).toBe(true);
    expect(await logTail(file, 2)).toMatch(/THE END$/);
  }, 240_000);

  it('keeps the output flowing after the agent is gone, and writes the last words once the service stops', async () => {
    const log = { maxBytes: 64 * 1024, keep: 2 };
    const first = supervisor();
    const command = `trap 'echo "last words"; exit 0' TERM; i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.02; done`;
    const run = await first.start(spec(command, log));
    const file = path.join(dir, 'logs', 'b1.log');
    await eventually(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes('tick 3'), 10_000, 'the first ticks');
    expect(logWriters(file)).toHaveLength(1);

    // The agent goes away (upgrade, crash): the service and its log writer stay.
    await first.detach();
    supervisors.splice(supervisors.indexOf(first), 1);
    const ticks = () => Number(/tick (\d+)\n$/.exec(fs.readFileSync(file, 'utf8'))?.[1] ?? 0);
    const before = ticks();
    await eventually(() => ticks() > before + 5, 10_000, 'more ticks with no agent');

    // The next agent adopts the service, then stops it: its last words reach the log, and the
    // writer, with nobody left writing to it, exits.
    const second = supervisor();
    expect(await second.adopt(spec(command, log))).toMatchObject({ pid: run.pid, adopted: true });
    await second.stop();
    await eventually(() => logWriters(file).length === 0, 10_000, 'the log writer to exit');
    expect(fs.readFileSync(file, 'utf8').endsWith('last words\n')).toBe(true);
  }, 60_000);
});

describe('build cache', () => {
  it('removes a build\'s rotated log parts with it, and only that build\'s', async () => {
    const layout = new AgentLayout(dir);
    const logs = path.dirname(layout.logFile('api', 'b4'));
    fs.mkdirSync(logs, { recursive: true });
    for (const name of ['b4.log', 'b4.log.1', 'b4.log.2', 'b41.log', 'b41.log.1', 'b5.log']) fs.writeFileSync(path.join(logs, name), name);
    await new BuildCache(layout, silentLogger()).remove('api', 'b4');
    expect(fs.readdirSync(logs).sort()).toEqual(['b41.log', 'b41.log.1', 'b5.log']);
  });
});

describe('run hook logs', () => {
  it('names the systemd unit a hook starts, with the build filled in', () => {
    expect(systemdUnit('systemctl restart app@$FLEETCAST_BUILD_ID', 'b42')).toBe('app@b42');
    expect(systemdUnit('sudo systemctl --no-block restart "api@${FLEETCAST_BUILD_ID}.service"', 'b7')).toBe('api@b7.service');
    expect(systemdUnit('systemctl start web && curl localhost', 'b1')).toBe('web');
    expect(systemdUnit('/usr/local/bin/switch-build', 'b1')).toBeUndefined();
  });

  it('says where the output is: journald for a systemd hook, else the hook and its own output file', () => {
    const layout = new AgentLayout(dir);
    const identity = { service: 'api', region: 'eu', machine: 'm1' };
    expect(new HookRunner(identity, layout, { hook: 'systemctl restart api@$FLEETCAST_BUILD_ID' }, silentLogger()).logLocation('b3')).toBe('journald: journalctl -u api@b3');
    expect(new HookRunner(identity, layout, { hook: 'podman restart api' }, silentLogger()).logLocation('b3')).toContain(layout.logFile('api', 'b3'));
  });

  it("keeps the hook's own output in the build's log, rotated", async () => {
    const layout = new AgentLayout(dir);
    const identity = { service: 'api', region: 'eu', machine: 'm1' };
    const buildDir = path.join(dir, 'build');
    fs.mkdirSync(buildDir);
    const runner = new HookRunner(identity, layout, { hook: `yes 'switching' | head -c 100000; echo "done with $FLEETCAST_BUILD_ID"`, log: { maxBytes: 16 * 1024, keep: 2 } }, silentLogger());
    const goal = { build: 'b3', runCommand: null } as unknown as Parameters<HookRunner['activate']>[0]['goal'];
    await runner.activate({ goal, dir: buildDir, file: path.join(buildDir, 'api') } as Parameters<HookRunner['activate']>[0]);
    const file = layout.logFile('api', 'b3');
    expect(fs.readFileSync(file, 'utf8').endsWith('done with b3\n')).toBe(true);
    expect(RotatingFile.files(file, 2).reduce((sum, f) => sum + fs.statSync(f).size, 0)).toBeLessThanOrEqual(2 * 16 * 1024);
  });
});
