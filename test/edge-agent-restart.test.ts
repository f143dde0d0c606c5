// Restart survival with the real executable (`node bin/fleetcast.js agent`): kill -9 mid-download
// resumes from the partial file; kill -9 while a service runs leaves it running and the next
// agent adopts it (never a second copy); a switch cut short goes back to the last good build.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../edge-agent/agent/process-identity.ts';
import { sha256 } from './support/agent-artifacts.ts';
import { eventually } from './support/eventually.ts';
import { TestFleet } from './support/agent-fleet.ts';
import { runCli, startCli, type RunningCli } from './support/cli.ts';

const MiB = 1 << 20;
let fleet: TestFleet;
const clis: RunningCli[] = [];

beforeAll(async () => {
  fleet = await TestFleet.start(['eu']);
});

afterEach(async () => {
  for (const cli of clis.splice(0)) {
    cli.kill();
    await cli.done;
  }
  // Services outlive SIGKILLed agents by design: end every one the tests started.
  fleet.killServices();
  await fleet.stopAgents();
});

afterAll(async () => {
  await fleet?.stop();
});

function agentProcess(machine: string, service: string, env: Record<string, string> = {}): RunningCli {
  const cli = startCli(['agent', '--region', 'eu', '--machine', machine, '--agent-services', service], {
    FLEETCAST_DATA_DIR: fleet.dataDir,
    FLEETCAST_NATS_URL: fleet.cluster.urls.agents.eu!,
    FLEETCAST_GOAL_PUBLIC_KEYS: fleet.keys.publicFile,
    FLEETCAST_AGENT_HEALTH_GRACE: '300ms',
    FLEETCAST_STATUS_INTERVAL: '1s',
    FLEETCAST_AGENT_P2P: 'false',
    FLEETCAST_LOG_LEVEL: 'info',
    ...env,
  });
  clis.push(cli);
  return cli;
}

/** The agent's JSON log lines (pino, on stderr). */
function logLines(cli: RunningCli): Record<string, unknown>[] {
  return cli
    .output()
    .stderr.split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

const running = (build: string) => (r: { state: string; build: string | null }) => r.state === 'running' && r.build === build;
const agentDir = (machine: string) => path.join(fleet.dataDir, 'agents', `eu-${machine}`);

describe('fleetcast agent', () => {
  it('--help names the role and its settings', async () => {
    const run = await runCli(['agent', '--help'], {});
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('run the edge agent of one machine');
    for (const flag of ['--region', '--machine', '--agent-dir', '--agent-cache-builds', '--agent-run-hook', '--agent-bucket-fallback']) expect(run.stdout).toContain(flag);
  });

  it('without trusted goal keys it does not start: there is no unsigned mode', async () => {
    const run = await agentProcess('nokeys', 'api', { FLEETCAST_GOAL_PUBLIC_KEYS: '' }).done;
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('FLEETCAST_GOAL_PUBLIC_KEYS is not set: an agent applies only goals the coordinator signed');
    // A key file that is not there is named as well.
    const missing = await agentProcess('badkeys', 'api', { FLEETCAST_GOAL_PUBLIC_KEYS: '/nowhere/goal-signing.pub' }).done;
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('FLEETCAST_GOAL_PUBLIC_KEYS: "/nowhere/goal-signing.pub" is neither a public key');
    expect(fs.existsSync(agentDir('nokeys'))).toBe(false);
  });

  it('killed with -9 mid-download, it resumes from the partial file when started again', async () => {
    const b1 = await fleet.artifact('rs', 1, 8 * MiB, ['eu']);
    // 2 MiB/s: the download takes ~4 s, long enough to be cut.
    const first = agentProcess('rs-1', 'rs', { FLEETCAST_AGENT_BUCKET_RATE: '2M' });
    await fleet.deploy(b1.goal('eu', { runCommand: 'sh ./rs' }));
    const partial = path.join(agentDir('rs-1'), 'services', 'rs', 'builds', 'b1', '.partial');
    await eventually(() => (fs.statSync(partial, { throwIfNoEntry: false })?.size ?? 0) >= 2 * MiB, 20_000, 'two MiB downloaded');
    first.kill();
    await first.done;
    const kept = fs.statSync(partial).size;
    expect(kept).toBeLessThan(b1.bytes.length);

    const second = agentProcess('rs-1', 'rs', { FLEETCAST_AGENT_BUCKET_RATE: '2M' });
    await fleet.reportOf('eu', 'rs', 'rs-1', running('b1'), 25_000);
    const resumed = logLines(second).find((l) => typeof l.resumeFrom === 'number');
    expect(resumed?.resumeFrom).toBe(kept);
    const installed = logLines(second).find((l) => typeof l.bytesFromBucket === 'number');
    expect(installed).toMatchObject({ bytesFromBucket: b1.bytes.length - kept, build: 'b1', service: 'rs', machine: 'rs-1', region: 'eu' });
    expect(sha256(fs.readFileSync(path.join(agentDir('rs-1'), 'services', 'rs', 'current', 'rs')))).toBe(b1.digest);
  });

  it('killed with -9 while its service runs, the service keeps running and the next agent adopts it', async () => {
    const b1 = await fleet.artifact('ad', 1, 200_000, ['eu']);
    const b2 = await fleet.artifact('ad', 2, 200_000, ['eu']);
    const runs = () => fs.readFileSync(path.join(agentDir('ad-1'), 'services', 'ad', 'runs.log'), 'utf8').trim().split('\n');
    const first = agentProcess('ad-1', 'ad');
    await fleet.deploy(b1.goal('eu', { runCommand: 'sh ./ad' }));
    await fleet.reportOf('eu', 'ad', 'ad-1', running('b1'));
    const pid = Number(runs()[0]!.split(' ')[2]);
    first.kill();
    await first.done;
    expect(isAlive(pid)).toBe(true);

    const second = agentProcess('ad-1', 'ad');
    await eventually(() => logLines(second).some((l) => String(l.msg).startsWith('adopted the running process of b1')), 20_000, 'the adoption');
    await fleet.reportOf('eu', 'ad', 'ad-1', (r) => running('b1')(r) && Date.parse(r.at) > Date.now() - 2_000);
    expect(runs()).toHaveLength(1);
    expect(isAlive(pid)).toBe(true);

    // The adopted process is really under control: a new goal stops it and starts b2.
    await fleet.deploy(b2.goal('eu', { runCommand: 'sh ./ad' }));
    await fleet.reportOf('eu', 'ad', 'ad-1', running('b2'));
    expect(isAlive(pid)).toBe(false);
    expect(runs()).toHaveLength(2);

    // A graceful stop (SIGTERM) leaves the service running too.
    const b2pid = Number(runs()[1]!.split(' ')[2]);
    second.kill('SIGTERM');
    const ended = await second.done;
    expect(ended.code, ended.stderr.slice(-3000)).toBe(0);
    expect(isAlive(b2pid)).toBe(true);
  });
});

describe('a switch cut short', () => {
  it('goes back to the previous build at start, then switches again with a health check', async () => {
    const b1 = await fleet.artifact('sw', 1, 100_000, ['eu']);
    const b2 = await fleet.artifact('sw', 2, 100_000, ['eu']);
    let agent = await fleet.startAgent('eu', 'sw-1', { env: { FLEETCAST_AGENT_SERVICES: 'sw' } });
    await fleet.deploy(b1.goal('eu', { runCommand: 'sh ./sw' }));
    await fleet.reportOf('eu', 'sw', 'sw-1', running('b1'));
    await fleet.deploy(b2.goal('eu', { runCommand: 'sh ./sw' }));
    await fleet.reportOf('eu', 'sw', 'sw-1', running('b2'));
    await agent.stop();
    // As if the agent died right after pointing current at b2, before its health check passed.
    fs.writeFileSync(path.join(agent.serviceDir('sw'), 'switch.json'), JSON.stringify({ build: 'b2', previous: 'b1' }));

    agent = await fleet.startAgent('eu', 'sw-1', { env: { FLEETCAST_AGENT_SERVICES: 'sw' } });
    await eventually(() => agent.runs('sw').length === 4, 20_000, 'b1 started again, then b2');
    expect(agent.runs('sw').map((r) => r.build)).toEqual(['b1', 'b2', 'b1', 'b2']);
    await fleet.reportOf('eu', 'sw', 'sw-1', running('b2'));
    expect(agent.current('sw')).toBe('builds/b2');
    expect(fs.existsSync(path.join(agent.serviceDir('sw'), 'switch.json'))).toBe(false);
  });

  it('started while its leaf is down, it keeps the running service (adopted, not started twice) and converges once the leaf is back', async () => {
    const b1 = await fleet.artifact('nd', 1, 100_000, ['eu']);
    const b2 = await fleet.artifact('nd', 2, 100_000, ['eu']);
    const first = await fleet.startAgent('eu', 'nd-1', { env: { FLEETCAST_AGENT_SERVICES: 'nd' } });
    await fleet.deploy(b1.goal('eu', { runCommand: 'sh ./nd' }));
    await fleet.reportOf('eu', 'nd', 'nd-1', running('b1'));
    await first.stopAgentOnly();
    const [run] = first.runs('nd');
    expect(isAlive(run!.pid)).toBe(true);

    await fleet.cluster.stopLeaf('eu');
    let second;
    try {
      second = await fleet.startAgent('eu', 'nd-1', { env: { FLEETCAST_AGENT_SERVICES: 'nd' } });
      expect(second.handle.agent.state('nd')).toMatchObject({ current: 'b1', goal: null, status: { state: 'running', build: 'b1' } });
      await fleet.deploy(b2.goal('eu', { runCommand: 'sh ./nd' }));
      expect(second.runs('nd')).toHaveLength(1);
      expect(isAlive(run!.pid)).toBe(true);
    } finally {
      await fleet.cluster.startLeaf('eu');
    }
    await second.handle.ready;
    await fleet.reportOf('eu', 'nd', 'nd-1', running('b2'), 30_000);
    expect(second.runs('nd').map((r) => r.build)).toEqual(['b1', 'b2']);
    expect(isAlive(run!.pid)).toBe(false);
  });
});
