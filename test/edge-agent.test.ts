// Edge agents in three regions on a real NATS hub and leaves, reading real regional buckets and
// running real processes: deploy, switch, rollback from the cache, cache upkeep, the bucket
// fallback, and a goal superseding a download.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../edge-agent/agent/process-identity.ts';
import { SilentFetcher, sha256, type TestArtifact } from './support/agent-artifacts.ts';
import { eventually } from './support/eventually.ts';
import { TestFleet, type TestAgent } from './support/agent-fleet.ts';

const MiB = 1 << 20;
const regions = ['eu', 'us', 'ap'];
let fleet: TestFleet;

beforeAll(async () => {
  fleet = await TestFleet.start(regions);
});

afterAll(async () => {
  await fleet?.stop();
});

const running = (build: string) => (r: { state: string; build: string | null }) => r.state === 'running' && r.build === build;

describe('a deploy to two agents in each of three regions', () => {
  const agents: TestAgent[] = [];
  const builds: Record<string, TestArtifact> = {};
  const deploy = async (n: number, kind: 'deploy' | 'rollback' = 'deploy') => {
    for (const region of regions) await fleet.deploy(builds[`b${n}`]!.goal(region, { runCommand: 'sh ./api', deployment: `d${n}${kind === 'rollback' ? 9 : 0}`, kind }));
  };
  const allRunning = async (build: string) => {
    for (const agent of agents) await fleet.reportOf(agent.region, 'api', agent.machine, running(build));
  };

  beforeAll(async () => {
    builds.b1 = await fleet.artifact('api', 1, 6 * MiB + 17);
    builds.b2 = await fleet.artifact('api', 2, 5 * MiB);
    for (const region of regions) for (const machine of ['m1', 'm2']) agents.push(await fleet.startAgent(region, `${region}-${machine}`, { env: { FLEETCAST_AGENT_SERVICES: 'api' } }));
  });

  afterAll(async () => {
    await fleet.stopAgents();
  });

  it('every agent installs the identical bytes, points current at them, runs them and reports running to its region', async () => {
    await deploy(1);
    await allRunning('b1');
    for (const agent of agents) {
      expect(agent.current('api')).toBe('builds/b1');
      const installed = fs.readFileSync(path.join(agent.serviceDir('api'), 'current', 'api'));
      expect(sha256(installed)).toBe(builds.b1!.digest);
      const runs = agent.runs('api');
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ build: 'b1', machine: agent.machine });
      expect(isAlive(runs[0]!.pid)).toBe(true);
      expect(fs.existsSync(path.join(agent.serviceDir('api'), 'builds', 'b1', '.verified'))).toBe(true);
      expect(fs.existsSync(path.join(agent.serviceDir('api'), 'builds', 'b1', '.partial'))).toBe(false);
      expect(agent.reads.map((r) => r.name)).toEqual([builds.b1!.goal('eu').artifact]);
    }
    // Counted as running the goal: each reports the build's digest and the signed goal's sequence.
    for (const region of regions) expect((await fleet.statusView(region)).summary('api', await fleet.target('api', region))).toMatchObject({ machines: 2, running: 2, mismatched: 0, failed: { machines: 0 } });
    // The status says where the build's output is (rotated: FLEETCAST_AGENT_LOG_MAX, _KEEP).
    for (const agent of agents) {
      expect((await fleet.statusView(agent.region)).report('api', agent.machine)?.log).toBe(path.join(agent.serviceDir('api'), 'logs', 'b1.log'));
    }
  });

  it('a new goal switches every agent, and the old process stops', async () => {
    await deploy(2);
    await allRunning('b2');
    for (const agent of agents) {
      expect(agent.current('api')).toBe('builds/b2');
      const [first, second] = agent.runs('api');
      expect(second).toMatchObject({ build: 'b2' });
      expect(isAlive(first!.pid)).toBe(false);
      expect(isAlive(second!.pid)).toBe(true);
      expect(sha256(fs.readFileSync(path.join(agent.serviceDir('api'), 'current', 'api')))).toBe(builds.b2!.digest);
    }
  });

  it('a rollback to the cached build is a switch without a transfer', async () => {
    const readsBefore = agents.map((a) => a.reads.length);
    await deploy(1, 'rollback');
    await allRunning('b1');
    for (const [i, agent] of agents.entries()) {
      expect(agent.reads.length).toBe(readsBefore[i]);
      expect(agent.current('api')).toBe('builds/b1');
      const runs = agent.runs('api');
      expect(runs.map((r) => r.build)).toEqual(['b1', 'b2', 'b1']);
      expect(runs.filter((r) => isAlive(r.pid))).toEqual([runs[2]]);
    }
  });
});

describe('the build cache', () => {
  afterEach(async () => {
    await fleet.stopAgents();
  });

  it('keeps the last K builds, never the running one, and rolls back to a kept one without a transfer', async () => {
    const agent = await fleet.startAgent('eu', 'gc-1', { env: { FLEETCAST_AGENT_SERVICES: 'gc', FLEETCAST_AGENT_CACHE_BUILDS: '2' } });
    const builds = [await fleet.artifact('gc', 1, 100_000, ['eu']), await fleet.artifact('gc', 2, 100_000, ['eu']), await fleet.artifact('gc', 3, 100_000, ['eu'])];
    for (const [i, build] of builds.entries()) {
      await fleet.deploy(build.goal('eu', { runCommand: 'sh ./gc' }));
      await fleet.reportOf('eu', 'gc', 'gc-1', running(`b${i + 1}`));
    }
    const buildsDir = path.join(agent.serviceDir('gc'), 'builds');
    await eventually(() => fs.readdirSync(buildsDir).sort().join() === 'b2,b3', 5_000, 'b1 removed');
    const reads = agent.reads.length;
    await fleet.deploy(builds[1]!.goal('eu', { runCommand: 'sh ./gc', kind: 'rollback', deployment: 'd20' }));
    await fleet.reportOf('eu', 'gc', 'gc-1', running('b2'));
    expect(agent.reads.length).toBe(reads);
    expect(fs.readdirSync(buildsDir).sort()).toEqual(['b2', 'b3']);
  });

  it('below the free-disk watermark it keeps only the running and goal builds', async () => {
    const agent = await fleet.startAgent('eu', 'gc-2', { env: { FLEETCAST_AGENT_SERVICES: 'gc2', FLEETCAST_AGENT_MIN_FREE_DISK: '1000T' } });
    const b1 = await fleet.artifact('gc2', 1, 100_000, ['eu']);
    const b2 = await fleet.artifact('gc2', 2, 100_000, ['eu']);
    await fleet.deploy(b1.goal('eu'));
    await fleet.reportOf('eu', 'gc2', 'gc-2', running('b1'));
    await fleet.deploy(b2.goal('eu'));
    await fleet.reportOf('eu', 'gc2', 'gc-2', running('b2'));
    await eventually(() => fs.readdirSync(path.join(agent.serviceDir('gc2'), 'builds')).join() === 'b2', 5_000, 'only b2 left');
    // Install only: no run command, nothing started.
    expect(agent.runs('gc2')).toEqual([]);
    expect(agent.current('gc2')).toBe('builds/b2');
  });
});

describe('fetching', () => {
  afterEach(async () => {
    await fleet.stopAgents();
  });

  it('reads from the bucket when no peer serves data in time, and says so in its status', async () => {
    const peers = new SilentFetcher();
    const agent = await fleet.startAgent('us', 'fb-1', {
      env: { FLEETCAST_AGENT_SERVICES: 'fb', FLEETCAST_AGENT_BUCKET_FALLBACK: '300ms', FLEETCAST_AGENT_SEEDER_WAIT: '300ms', FLEETCAST_AGENT_BUCKET_RATE: '2M' },
      overrides: { peerFetcher: peers },
    });
    const b1 = await fleet.artifact('fb', 1, 4 * MiB, ['us']);
    await fleet.deploy(b1.goal('us', { p2pKey: 'cd'.repeat(32) }));
    const downloading = await fleet.reportOf('us', 'fb', 'fb-1', (r) => r.state === 'downloading' && r.error !== null);
    expect(downloading.error).toBe('fetching from the bucket: no peer served data within 300 ms');
    await fleet.reportOf('us', 'fb', 'fb-1', running('b1'));
    expect(peers).toMatchObject({ calls: 1, aborted: 1 });
    expect(sha256(fs.readFileSync(path.join(agent.serviceDir('fb'), 'current', 'fb')))).toBe(b1.digest);
  });

  it('a goal for another build supersedes a download; the same build again does not restart it', async () => {
    // 1 MiB/s: the 4 MiB download of b1 is still running when the next goals arrive.
    const agent = await fleet.startAgent('ap', 'sup-1', { env: { FLEETCAST_AGENT_SERVICES: 'sup', FLEETCAST_AGENT_BUCKET_RATE: '1M' } });
    const b1 = await fleet.artifact('sup', 1, 4 * MiB, ['ap']);
    const b2 = await fleet.artifact('sup', 2, 200_000, ['ap']);
    await fleet.deploy(b1.goal('ap'));
    await fleet.reportOf('ap', 'sup', 'sup-1', (r) => r.state === 'downloading' && r.build === 'b1' && r.bytes > 0);
    // Redeployed (a new deployment of the same build): the download goes on.
    await fleet.deploy(b1.goal('ap', { deployment: 'd11' }));
    await fleet.reportOf('ap', 'sup', 'sup-1', (r) => r.state === 'downloading' && r.build === 'b1' && r.bytes >= MiB);
    expect(agent.reads.filter((r) => r.name === b1.goal('ap').artifact)).toHaveLength(1);
    const partial = path.join(agent.serviceDir('sup'), 'builds', 'b1', '.partial');
    await fleet.deploy(b2.goal('ap'));
    await fleet.reportOf('ap', 'sup', 'sup-1', running('b2'));
    expect(agent.current('sup')).toBe('builds/b2');
    // b1 was left half-way and never installed; cache upkeep removed its partial file.
    await eventually(() => !fs.existsSync(partial), 5_000, 'the superseded partial to go');
    expect(fs.existsSync(path.join(agent.serviceDir('sup'), 'builds', 'b1', '.verified'))).toBe(false);
  });
});

describe('prefetch hints (a later wave\'s build fetched ahead of its goal)', () => {
  afterEach(async () => {
    await fleet.stopAgents();
  });

  const readsOf = (agent: TestAgent, build: TestArtifact) => agent.reads.filter((r) => r.name === build.goal('eu').artifact).length;
  const verified = (agent: TestAgent, service: string, build: string) => fs.existsSync(path.join(agent.serviceDir(service), 'builds', build, '.verified'));

  it('fetches the hinted build into the cache, runs nothing and keeps reporting the goal; its wave then switches without a transfer', async () => {
    const agent = await fleet.startAgent('eu', 'pf-1', { env: { FLEETCAST_AGENT_SERVICES: 'pf' } });
    const b1 = await fleet.artifact('pf', 1, 100_000, ['eu']);
    const b2 = await fleet.artifact('pf', 2, 3 * MiB, ['eu']);
    await fleet.deploy(b1.goal('eu', { runCommand: 'sh ./pf' }));
    await fleet.reportOf('eu', 'pf', 'pf-1', running('b1'));
    await fleet.writer.putPrefetch(b2.goal('eu', { runCommand: 'sh ./pf', deployment: 'd2' }));
    await eventually(() => verified(agent, 'pf', 'b2'), 20_000, 'b2 verified in the cache');
    expect(readsOf(agent, b2)).toBe(1);
    expect(agent.current('pf')).toBe('builds/b1');
    expect(agent.runs('pf').map((r) => r.build)).toEqual(['b1']);
    expect(sha256(fs.readFileSync(path.join(agent.serviceDir('pf'), 'builds', 'b2', 'pf')))).toBe(b2.digest);
    // The next report still speaks of the goal (reports repeat every second).
    const report = await fleet.reportOf('eu', 'pf', 'pf-1', (r) => Date.parse(r.at) > Date.now() - 500);
    expect(report).toMatchObject({ build: 'b1', state: 'running', error: null });
    expect((await fleet.statusView('eu')).summary('pf', await fleet.target('pf', 'eu'))).toMatchObject({ machines: 1, running: 1 });

    await fleet.deploy(b2.goal('eu', { runCommand: 'sh ./pf', deployment: 'd2' }));
    await fleet.reportOf('eu', 'pf', 'pf-1', running('b2'));
    expect(readsOf(agent, b2)).toBe(1);
    expect(agent.runs('pf').map((r) => r.build)).toEqual(['b1', 'b2']);
  });

  it('a hint older than the goal (a rollback came after it) is not followed', async () => {
    const b1 = await fleet.artifact('pf2', 1, 100_000, ['eu']);
    const b3 = await fleet.artifact('pf2', 3, 100_000, ['eu']);
    await fleet.writer.putPrefetch(b3.goal('eu', { deployment: 'd3' }));
    await fleet.deploy(b1.goal('eu', { kind: 'rollback', deployment: 'd4' }));
    const agent = await fleet.startAgent('eu', 'pf-2', { env: { FLEETCAST_AGENT_SERVICES: 'pf2' } });
    await fleet.reportOf('eu', 'pf2', 'pf-2', running('b1'));
    // A second report round: the reconciler has long passed the point where it would prefetch.
    const at = Date.now();
    await fleet.reportOf('eu', 'pf2', 'pf-2', (r) => Date.parse(r.at) > at + 1_000 && r.state === 'running');
    expect(readsOf(agent, b3)).toBe(0);
    expect(fs.existsSync(path.join(agent.serviceDir('pf2'), 'builds', 'b3'))).toBe(false);
  });

  it('the hinted build becoming the goal mid-fetch goes on with the same fetch, then switches', async () => {
    const agent = await fleet.startAgent('eu', 'pf-3', { env: { FLEETCAST_AGENT_SERVICES: 'pf3', FLEETCAST_AGENT_BUCKET_RATE: '2M' } });
    const b1 = await fleet.artifact('pf3', 1, 100_000, ['eu']);
    const b2 = await fleet.artifact('pf3', 2, 4 * MiB, ['eu']);
    await fleet.deploy(b1.goal('eu', { runCommand: 'sh ./pf3' }));
    await fleet.reportOf('eu', 'pf3', 'pf-3', running('b1'));
    await fleet.writer.putPrefetch(b2.goal('eu', { runCommand: 'sh ./pf3', deployment: 'd2' }));
    const partial = path.join(agent.serviceDir('pf3'), 'builds', 'b2', '.partial');
    await eventually(() => (fs.statSync(partial, { throwIfNoEntry: false })?.size ?? 0) > 0, 10_000, 'the prefetch under way');
    expect((await fleet.statusView('eu')).report('pf3', 'pf-3')).toMatchObject({ build: 'b1', state: 'running' });
    await fleet.deploy(b2.goal('eu', { runCommand: 'sh ./pf3', deployment: 'd2' }));
    await fleet.reportOf('eu', 'pf3', 'pf-3', (r) => r.build === 'b2' && r.state === 'downloading');
    await fleet.reportOf('eu', 'pf3', 'pf-3', running('b2'));
    expect(readsOf(agent, b2)).toBe(1);
    expect(agent.runs('pf3').map((r) => r.build)).toEqual(['b1', 'b2']);
  });

  it('a hint that cannot be fetched (its object is not in the bucket) fails quietly: the service stays as it was, the status says nothing', async () => {
    const agent = await fleet.startAgent('eu', 'pf-4', { env: { FLEETCAST_AGENT_SERVICES: 'pf4' } });
    const b1 = await fleet.artifact('pf4', 1, 100_000, ['eu']);
    await fleet.deploy(b1.goal('eu', { runCommand: 'sh ./pf4' }));
    await fleet.reportOf('eu', 'pf4', 'pf-4', running('b1'));
    await fleet.writer.putPrefetch(b1.goal('eu', { build: 'b2', artifact: 'pf4/b2/missing', deployment: 'd2' }));
    await eventually(() => fs.existsSync(path.join(agent.serviceDir('pf4'), 'builds', 'b2')), 10_000, 'the prefetch tried');
    const at = Date.now();
    const report = await fleet.reportOf('eu', 'pf4', 'pf-4', (r) => Date.parse(r.at) > at + 500);
    expect(report).toMatchObject({ build: 'b1', state: 'running', error: null });
    expect(verified(agent, 'pf4', 'b2')).toBe(false);
    expect(agent.current('pf4')).toBe('builds/b1');
    expect(agent.runs('pf4').map((r) => r.build)).toEqual(['b1']);
  });

});
