// Switching a service between builds with real processes (SupervisedRunner): a healthy switch,
// a build that dies during its grace period (back to the previous one), and an agent killed
// mid-switch (restore goes back to the previous build).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFleetcastError } from '../../errors/index.ts';
import { silentLogger } from '../../logging/index.ts';
import { storeArtifact } from '../../test/support/agent-artifacts.ts';
import { AgentLayout } from './agent-layout.ts';
import { BuildCache, type InstalledBuild } from './build-cache.ts';
import { BuildSwitcher } from './build-switcher.ts';
import { SupervisedRunner } from './supervised-runner.ts';

let dir: string;
let layout: AgentLayout;
let cache: BuildCache;
const runners: SupervisedRunner[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-switcher-'));
  layout = new AgentLayout(dir);
  cache = new BuildCache(layout, silentLogger());
});

afterEach(async () => {
  for (const runner of runners.splice(0)) await runner.close({ stopServices: true });
  fs.rmSync(dir, { recursive: true, force: true });
});

function switcher(): BuildSwitcher {
  const runner = new SupervisedRunner({ service: 'api', region: 'eu', machine: 'm1' }, layout, { stopGraceMs: 1_000 }, silentLogger());
  runners.push(runner);
  return new BuildSwitcher({ service: 'api', layout, cache, runner, logger: silentLogger() });
}

/** Build b<n> installed in the cache, running `script` as its process. */
async function build(n: number, script: string): Promise<InstalledBuild> {
  const artifact = await storeArtifact([], 'api', n, 200, `${script}\n`);
  const goal = artifact.goal('eu', { runCommand: 'sh ./api' });
  fs.mkdirSync(layout.buildDir('api', goal.build), { recursive: true });
  fs.writeFileSync(layout.partial('api', goal.build), artifact.bytes);
  return cache.install(goal, layout.partial('api', goal.build));
}

const health = { graceMs: 300, timeoutMs: 5_000, pollMs: 50 };
const current = () => fs.readlinkSync(layout.currentLink('api'));

describe('BuildSwitcher', () => {
  it('a healthy switch points current at the new build and runs it', async () => {
    const s = switcher();
    expect(await s.restore()).toBeNull();
    await s.switchTo(await build(1, 'exec sleep 30'), new AbortController().signal, silentLogger(), health);
    expect(current()).toBe('builds/b1');
    expect(s.current?.goal.build).toBe('b1');
    expect(fs.existsSync(layout.switchRecord('api'))).toBe(false);
  });

  it('a build whose process dies during the grace period: HEALTH_CHECK_FAILED, and the previous build runs again', async () => {
    const s = switcher();
    await s.restore();
    await s.switchTo(await build(1, 'exec sleep 30'), new AbortController().signal, silentLogger(), health);
    const err = await s.switchTo(await build(2, 'echo broken; exit 3'), new AbortController().signal, silentLogger(), health).catch((e: unknown) => e);
    expect(isFleetcastError(err, 'HEALTH_CHECK_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/b2 of api failed its health check.*Went back to b1/);
    expect(current()).toBe('builds/b1');
    expect(s.current?.goal.build).toBe('b1');
  });

  it('an agent killed mid-switch: restore goes back to the previous build and forgets the switch', async () => {
    await build(1, 'exec sleep 30');
    await build(2, 'exec sleep 30');
    // What a switch to b2 leaves on disk when the agent dies before its health check passed.
    fs.symlinkSync(path.join('builds', 'b2'), layout.currentLink('api'));
    fs.writeFileSync(layout.switchRecord('api'), JSON.stringify({ build: 'b2', previous: 'b1' }));
    const s = switcher();
    expect((await s.restore())?.goal.build).toBe('b1');
    expect(current()).toBe('builds/b1');
    expect(fs.existsSync(layout.switchRecord('api'))).toBe(false);
  });
});
