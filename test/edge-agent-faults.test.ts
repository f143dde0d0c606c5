// Bad things an agent meets, each with a clear status and no harm to the running build: a new
// build that dies or answers unhealthy, damaged or forged bytes, a build missing from the
// bucket, a full disk (a real tmpfs), its leaf going away, a malformed goal; and the run hook.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../edge-agent/agent/process-identity.ts';
import type { ArtifactFetcher, FetchRequest, FetchResult } from '../edge-agent/index.ts';
import { sha256 } from './support/agent-artifacts.ts';
import { eventually } from './support/eventually.ts';
import { TestFleet, type TestAgent } from './support/agent-fleet.ts';
import { mountTmpfs } from './support/tmpfs.ts';

const MiB = 1 << 20;
let fleet: TestFleet;

beforeAll(async () => {
  fleet = await TestFleet.start(['eu', 'us']);
});

afterAll(async () => {
  await fleet?.stop();
});

afterEach(async () => {
  await fleet.stopAgents();
});

const running = (build: string) => (r: { state: string; build: string | null }) => r.state === 'running' && r.build === build;
const failed = (build: string) => (r: { state: string; build: string | null }) => r.state === 'failed' && r.build === build;
const aliveRuns = (agent: TestAgent, service: string) => agent.runs(service).filter((r) => isAlive(r.pid));
/** After a revert the previous build's process is started again; its shell writes its run line a moment later. */
const onlyAlive = (agent: TestAgent, service: string, build: string) =>
  eventually(() => {
    const alive = aliveRuns(agent, service);
    return alive.length === 1 && alive[0]!.build === build;
  }, 10_000, `${build} of ${service} alive, alone (runs: ${JSON.stringify(agent.runs(service))})`);

/** Deploys b1 of `service` to a fresh agent in `region` and waits until it runs. */
async function agentRunningB1(region: string, machine: string, service: string, env: Record<string, string> = {}, overrides = {}, dir?: string): Promise<TestAgent> {
  const agent = await fleet.startAgent(region, machine, { env: { FLEETCAST_AGENT_SERVICES: service, ...env }, overrides, dir });
  const b1 = await fleet.artifact(service, 1, 200_000, [region]);
  await fleet.deploy(b1.goal(region, { runCommand: `sh ./${service}` }));
  await fleet.reportOf(region, service, machine, running('b1'));
  expect(aliveRuns(agent, service)).toHaveLength(1);
  return agent;
}

describe('health checks', () => {
  it('a run command that exits at once is reverted and FAILED with its output, not retried in a loop; a new goal retries', async () => {
    const agent = await agentRunningB1('eu', 'hc-1', 'hc', {}, { retry: { minMs: 60_000 } });
    const b2 = await fleet.artifact('hc', 2, 200_000, ['eu']);
    await fleet.deploy(b2.goal('eu', { runCommand: 'echo boom; exit 3' }));
    const report = await fleet.reportOf('eu', 'hc', 'hc-1', failed('b2'));
    expect(report.error).toMatch(/^b2 of hc failed its health check: the run command of b2 exited with code 3 .* within the health grace of 300 ms; its last output: boom\. Went back to b1/);
    expect(agent.current('hc')).toBe('builds/b1');
    await onlyAlive(agent, 'hc', 'b1');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const b2Log = fs.readFileSync(path.join(agent.serviceDir('hc'), 'logs', 'b2.log'), 'utf8');
    expect(b2Log.trim().split('\n')).toEqual(['boom']);

    // A new deployment of the same build with a run command that works: tried at once.
    await fleet.deploy(b2.goal('eu', { runCommand: 'sh ./hc', deployment: 'd21' }));
    await fleet.reportOf('eu', 'hc', 'hc-1', running('b2'));
    await onlyAlive(agent, 'hc', 'b2');
  });

  it('a healthy build that later crashes is restarted with backoff, and the status says so', async () => {
    const agent = await fleet.startAgent('eu', 'cr-1', { env: { FLEETCAST_AGENT_SERVICES: 'cr' } });
    const b1 = await fleet.artifact('cr', 1, 100_000, ['eu']);
    // Up past the health grace (300 ms), then exits.
    await fleet.deploy(b1.goal('eu', { runCommand: `echo "b1 x $$" >> ../../runs.log; sleep 0.6; exit 1` }));
    const report = await fleet.reportOf('eu', 'cr', 'cr-1', (r) => r.state === 'running' && /^restarted [2-9]\d* times; last: exited with code 1$/.test(r.error ?? ''));
    expect(report.build).toBe('b1');
    expect(agent.runs('cr').length).toBeGreaterThanOrEqual(3);
    // Never two at once: at most the newest start is alive.
    expect(agent.runs('cr').slice(0, -1).filter((r) => isAlive(r.pid))).toEqual([]);
  });

  it('a health URL that does not answer 2xx in time reverts; one that does keeps the build', async () => {
    let status = 503;
    const server = http.createServer((_req, res) => res.writeHead(status).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const healthUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`;
    try {
      const agent = await agentRunningB1('eu', 'hu-1', 'hu', { FLEETCAST_AGENT_HEALTH_TIMEOUT: '1s' });
      const b2 = await fleet.artifact('hu', 2, 200_000, ['eu']);
      await fleet.deploy(b2.goal('eu', { runCommand: 'sh ./hu', healthUrl }));
      const report = await fleet.reportOf('eu', 'hu', 'hu-1', failed('b2'));
      expect(report.error).toContain(`the health URL ${healthUrl} of b2 did not answer 2xx within 1 s of the switch (last: HTTP 503)`);
      expect(agent.current('hu')).toBe('builds/b1');
      await onlyAlive(agent, 'hu', 'b1');

      status = 204;
      await fleet.deploy(b2.goal('eu', { runCommand: 'sh ./hu', healthUrl, deployment: 'd22' }));
      await fleet.reportOf('eu', 'hu', 'hu-1', running('b2'));
      expect(agent.current('hu')).toBe('builds/b2');
    } finally {
      server.close();
    }
  });
});

describe('wrong bytes', () => {
  it('a damaged copy in the regional bucket fails DIGEST_MISMATCH and the running build is untouched', async () => {
    const agent = await agentRunningB1('eu', 'dm-1', 'dm');
    const before = aliveRuns(agent, 'dm');
    const b2 = await fleet.artifact('dm', 2, 300_000, ['eu']);
    const object = path.join((await fleet.bucket('eu')).dir, ...b2.goal('eu').artifact.split('/'));
    const bytes = fs.readFileSync(object);
    bytes[1000] = bytes[1000]! ^ 0xff;
    fs.writeFileSync(object, bytes);
    await fleet.deploy(b2.goal('eu', { runCommand: 'sh ./dm' }));
    const report = await fleet.reportOf('eu', 'dm', 'dm-1', failed('b2'));
    expect(report.error).toMatch(/^b2 of dm in bucket fleetcast-eu .*: sha256 [0-9a-f]{64}, expected [0-9a-f]{64}: the regional copy is not the build the goal names/);
    expect(agent.current('dm')).toBe('builds/b1');
    expect(aliveRuns(agent, 'dm')).toEqual(before);
    expect(fs.readdirSync(path.join(agent.serviceDir('dm'), 'builds', 'b2'))).toEqual([]);
  });

  it('bytes from a peer that do not hash to the digest are discarded, never installed', async () => {
    const forging: ArtifactFetcher = {
      async fetch(request: FetchRequest): Promise<FetchResult> {
        const forged = Buffer.alloc(request.goal.size, 7);
        fs.writeFileSync(request.destination, forged);
        return { sha256: sha256(forged), bytesFromPeers: forged.length, bytesFromBucket: 0 };
      },
      retain: async () => undefined,
      close: async () => undefined,
    };
    const agent = await agentRunningB1('eu', 'fp-1', 'fp', {}, { peerFetcher: forging });
    const b2 = await fleet.artifact('fp', 2, 300_000, ['eu']);
    await fleet.deploy(b2.goal('eu', { runCommand: 'sh ./fp', p2pKey: 'ef'.repeat(32) }));
    const report = await fleet.reportOf('eu', 'fp', 'fp-1', failed('b2'));
    expect(report.error).toMatch(/^download of b2 of fp: sha256 [0-9a-f]{64}, expected [0-9a-f]{64}: the bytes fetched are not the build; they were discarded/);
    expect(agent.current('fp')).toBe('builds/b1');
    expect(fs.existsSync(path.join(agent.serviceDir('fp'), 'builds', 'b2', 'fp'))).toBe(false);
    expect(fs.existsSync(path.join(agent.serviceDir('fp'), 'builds', 'b2', '.partial'))).toBe(false);
  });
});

describe('missing builds and full disks', () => {
  it('a goal naming a build the bucket does not hold fails NOT_FOUND, then converges once the copy arrives', async () => {
    const agent = await agentRunningB1('us', 'nf-1', 'nf');
    const b2 = await fleet.artifact('nf', 2, 300_000, []);
    await fleet.deploy(b2.goal('us', { runCommand: 'sh ./nf' }));
    const report = await fleet.reportOf('us', 'nf', 'nf-1', failed('b2'));
    expect(report.error).toContain(`build b2 of nf is not in the regional bucket fleetcast-us (no object ${b2.goal('us').artifact})`);
    expect(aliveRuns(agent, 'nf')).toMatchObject([{ build: 'b1' }]);
    // Replication catches up: the agent's retry picks it up.
    await (await fleet.bucket('us')).put(b2.goal('us').artifact, Readable.from([b2.bytes]), { sha256: b2.digest });
    await fleet.reportOf('us', 'nf', 'nf-1', running('b2'));
  });

  it('a build that does not fit on the disk fails DISK_FULL before a byte is written; the running build is untouched', async () => {
    const dir = path.join(fleet.dataDir, 'tiny-disk');
    const unmount = mountTmpfs(dir, '12m');
    let agent: TestAgent | undefined;
    try {
      agent = await agentRunningB1('eu', 'df-1', 'df', { FLEETCAST_AGENT_MIN_FREE_DISK: '1M' }, {}, dir);
      const b2 = await fleet.artifact('df', 2, 14 * MiB, ['eu']);
      await fleet.deploy(b2.goal('eu', { runCommand: 'sh ./df' }));
      const report = await fleet.reportOf('eu', 'df', 'df-1', failed('b2'));
      expect(report.error).toMatch(/^not enough disk for b2 of df: 14 MiB still to fetch, [\d.]+ MiB free in .*tiny-disk after removing cached builds; free space there/);
      expect(agent.current('df')).toBe('builds/b1');
      expect(aliveRuns(agent, 'df')).toMatchObject([{ build: 'b1' }]);
      expect(fs.existsSync(path.join(agent.serviceDir('df'), 'builds', 'b2', '.partial'))).toBe(false);
    } finally {
      await agent?.stop();
      unmount();
    }
  });
});

describe('NATS and goal-state trouble', () => {
  it('with its leaf stopped the agent keeps running its build, then converges on the goal written meanwhile', async () => {
    const agent = await agentRunningB1('us', 'lf-1', 'lf');
    const b2 = await fleet.artifact('lf', 2, 300_000, ['us']);
    await fleet.cluster.stopLeaf('us');
    try {
      await fleet.deploy(b2.goal('us', { runCommand: 'sh ./lf' }));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(agent.current('lf')).toBe('builds/b1');
      expect(aliveRuns(agent, 'lf')).toMatchObject([{ build: 'b1' }]);
    } finally {
      await fleet.cluster.startLeaf('us');
    }
    await fleet.reportOf('us', 'lf', 'lf-1', running('b2'), 30_000);
    expect(aliveRuns(agent, 'lf')).toMatchObject([{ build: 'b2' }]);
  });

  it('a malformed goal is reported and ignored: the previous goal stays in force', async () => {
    const agent = await agentRunningB1('eu', 'mg-1', 'mg');
    const kv = await fleet.cluster.rawKv(fleet.cluster.urls.hub, 'goal');
    await kv.put('mg.eu', new TextEncoder().encode('{"v":2,"service":"mg","build":'));
    const report = await fleet.reportOf('eu', 'mg', 'mg-1', (r) => r.refusal?.code === 'GOAL_INVALID');
    expect(report).toMatchObject({ state: 'running', build: 'b1', error: null, refusals: 1 });
    expect(report.refusal!.message).toMatch(/^goal mg\.eu at revision \d+ is malformed \(the value is not JSON\).*the previous goal stays in force/);
    expect(aliveRuns(agent, 'mg')).toMatchObject([{ build: 'b1' }]);
    const b2 = await fleet.artifact('mg', 2, 100_000, ['eu']);
    await fleet.deploy(b2.goal('eu', { runCommand: 'sh ./mg' }));
    await fleet.reportOf('eu', 'mg', 'mg-1', (r) => running('b2')(r) && r.error === null && r.refusal === null);
  });
});

describe('a run hook', () => {
  it('is called for each switch with the build, its dir and artifact; a failing hook reverts to the previous build', async () => {
    const calls = path.join(fleet.dataDir, 'hook-calls');
    const hook = `echo "$FLEETCAST_BUILD_ID $FLEETCAST_SERVICE $FLEETCAST_MACHINE $FLEETCAST_BUILD_DIR $FLEETCAST_ARTIFACT" >> ${calls}; [ "$FLEETCAST_BUILD_ID" != b3 ] || { echo "unit failed" >&2; exit 4; }`;
    const agent = await fleet.startAgent('eu', 'hk-1', { env: { FLEETCAST_AGENT_SERVICES: 'hk', FLEETCAST_AGENT_RUN_HOOK: hook } });
    const builds = [await fleet.artifact('hk', 1, 100_000, ['eu']), await fleet.artifact('hk', 2, 100_000, ['eu']), await fleet.artifact('hk', 3, 100_000, ['eu'])];
    await fleet.deploy(builds[0]!.goal('eu'));
    await fleet.reportOf('eu', 'hk', 'hk-1', running('b1'));
    await fleet.deploy(builds[1]!.goal('eu'));
    await fleet.reportOf('eu', 'hk', 'hk-1', running('b2'));
    await fleet.deploy(builds[2]!.goal('eu'));
    const report = await fleet.reportOf('eu', 'hk', 'hk-1', failed('b3'));
    expect(report.error).toMatch(/the run hook for b3 .* exited with code 4; its last output: unit failed\. Went back to b2/);
    const lines = fs.readFileSync(calls, 'utf8').trim().split('\n');
    const buildDir = (b: string) => path.join(agent.serviceDir('hk'), 'builds', b);
    expect(lines).toEqual(['b1', 'b2', 'b3', 'b2'].map((b) => `${b} hk hk-1 ${buildDir(b)} ${path.join(buildDir(b), 'hk')}`));
    expect(agent.current('hk')).toBe('builds/b2');
    // The agent ran nothing itself.
    expect(fs.existsSync(path.join(agent.serviceDir('hk'), 'process.json'))).toBe(false);
  });
});

describe('one agent per agent dir', () => {
  it('a second agent on the same dir refuses to start, naming the first', async () => {
    const first = await fleet.startAgent('eu', 'lk-1', { env: { FLEETCAST_AGENT_SERVICES: 'lk' } });
    await eventually(() => fs.existsSync(path.join(first.dir, 'agent.lock')), 5_000, 'the lock');
    const lock = JSON.parse(fs.readFileSync(path.join(first.dir, 'agent.lock'), 'utf8'));
    // Another live process holds it (this test runs in one process, so fake the holder as pid 1).
    fs.writeFileSync(path.join(first.dir, 'agent.lock'), JSON.stringify({ ...lock, pid: 1, startTicks: null }));
    await expect(fleet.startAgent('eu', 'lk-1', { dir: first.dir })).rejects.toMatchObject({ code: 'BUSY', message: expect.stringContaining(`another agent (pid 1`) });
    fs.writeFileSync(path.join(first.dir, 'agent.lock'), JSON.stringify(lock));
  });
});
