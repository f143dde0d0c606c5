// The supervisor with real processes: environment and process group, restarts with a doubling
// pause, SIGTERM then SIGKILL, and adoption by a second supervisor (an agent restarted).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../../test/support/eventually.ts';
import { silentLogger } from '../../logging/index.ts';
import { groupAlive, isAlive } from './process-identity.ts';
import { ProcessSupervisor, type ProcessExit, type ProcessSupervisorOptions, type RunSpec } from './process-supervisor.ts';

let dir: string;
const supervisors: ProcessSupervisor[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-supervisor-'));
});

afterEach(async () => {
  for (const supervisor of supervisors.splice(0)) await supervisor.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function supervisor(options: Partial<ProcessSupervisorOptions> = {}): ProcessSupervisor {
  const s = new ProcessSupervisor({ recordFile: path.join(dir, 'process.json'), stopGraceMs: 2_000, restartMinMs: 50, restartMaxMs: 400, adoptPollMs: 50, logger: silentLogger(), ...options });
  supervisors.push(s);
  return s;
}

function spec(build: string, command: string): RunSpec {
  const buildDir = path.join(dir, build);
  fs.mkdirSync(buildDir, { recursive: true });
  return { build, dir: buildDir, command, env: { PATH: process.env.PATH!, FLEETCAST_BUILD_ID: build }, logFile: path.join(dir, 'logs', `${build}.log`) };
}

const pgidOf = (pid: number) => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[2];
const starts = () => (fs.existsSync(path.join(dir, 'starts')) ? fs.readFileSync(path.join(dir, 'starts'), 'utf8').trim().split('\n') : []);

describe('ProcessSupervisor', () => {
  it('runs the command in the build dir with its environment, in its own process group, recorded in the pid file', async () => {
    const s = supervisor();
    const run = await s.start(spec('b1', 'echo "$FLEETCAST_BUILD_ID $(pwd)" > ran; echo started; exec sleep 600'));
    await eventually(() => fs.existsSync(path.join(dir, 'b1', 'ran')), 5_000, 'the command to run');
    expect(fs.readFileSync(path.join(dir, 'b1', 'ran'), 'utf8').trim()).toBe(`b1 ${path.join(dir, 'b1')}`);
    expect(pgidOf(run.pid)).toBe(String(run.pid));
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'process.json'), 'utf8'))).toMatchObject({ pid: run.pid, build: 'b1' });
    await eventually(() => fs.readFileSync(path.join(dir, 'logs', 'b1.log'), 'utf8').includes('started'), 5_000, 'the output in the log file');
    await s.stop();
    expect(isAlive(run.pid)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'process.json'))).toBe(false);
  });

  it('restarts a process that exits, with a doubling pause, and stops restarting on stop()', async () => {
    const exits: [ProcessExit, number][] = [];
    const s = supervisor({ onExit: (exit, delay) => exits.push([exit, delay]) });
    await s.start(spec('b1', `echo $$ >> ${path.join(dir, 'starts')}; exit 3`));
    await eventually(() => exits.length >= 4, 10_000, 'four exits');
    expect(exits.slice(0, 4).map(([, delay]) => delay)).toEqual([50, 100, 200, 400]);
    expect(exits[0]![0]).toMatchObject({ build: 'b1', code: 3, adopted: false, description: 'exited with code 3' });
    await s.stop();
    const count = starts().length;
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(starts().length).toBe(count);
  });

  it('kills the whole group with SIGKILL when SIGTERM is ignored', async () => {
    const s = supervisor({ stopGraceMs: 300 });
    const run = await s.start(spec('b1', `trap '' TERM; sleep 600 & echo $! > ${path.join(dir, 'child')}; wait`));
    await eventually(() => fs.existsSync(path.join(dir, 'child')), 5_000, 'the child to start');
    const child = Number(fs.readFileSync(path.join(dir, 'child'), 'utf8'));
    expect(isAlive(child)).toBe(true);
    await s.stop();
    expect(isAlive(run.pid)).toBe(false);
    expect(isAlive(child)).toBe(false);
    expect(groupAlive(run.pid)).toBe(false);
  });

  it('a second supervisor adopts the process of the first instead of starting another; another build it stops', async () => {
    const first = supervisor();
    const run = await first.start(spec('b1', `echo $$ >> ${path.join(dir, 'starts')}; exec sleep 600`));
    await eventually(() => starts().length === 1, 5_000, 'the first start');
    await first.detach(); // the agent went away; the process did not

    const second = supervisor();
    const adopted = await second.adopt(spec('b1', 'exec sleep 600'));
    expect(adopted).toMatchObject({ pid: run.pid, build: 'b1', adopted: true });
    expect(starts()).toHaveLength(1);

    // It notices when the adopted process ends, and restarts it (exit status unknown).
    const exits: ProcessExit[] = [];
    await second.detach();
    const third = supervisor({ onExit: (exit) => exits.push(exit) });
    await third.adopt(spec('b1', `echo $$ >> ${path.join(dir, 'starts')}; exec sleep 600`));
    process.kill(run.pid, 'SIGKILL');
    await eventually(() => exits.length === 1 && starts().length === 2, 10_000, 'the restart after the adopted process died');
    expect(exits[0]).toMatchObject({ adopted: true, code: null, description: 'exited (exit status unknown: adopted from a previous agent)' });
    const restarted = third.running!;
    await third.detach();

    const fourth = supervisor();
    expect(await fourth.adopt(spec('b2', 'exec sleep 600'))).toBeUndefined();
    expect(isAlive(restarted.pid)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'process.json'))).toBe(false);
  });

  it('never adopts (or kills) a process that only has the recorded pid', async () => {
    fs.writeFileSync(path.join(dir, 'process.json'), JSON.stringify({ v: 1, pid: process.pid, build: 'b1', startTicks: '1', startedAt: new Date().toISOString(), command: 'x' }));
    const s = supervisor();
    expect(await s.adopt(spec('b1', 'exec sleep 600'))).toBeUndefined();
    expect(fs.existsSync(path.join(dir, 'process.json'))).toBe(false);
  });
});
