// FLEETCAST_SERVICE_USER with the real executable (`node bin/fleetcast.js agent`, running as root
// here): the run command runs as the service user, cannot read the agent's environment nor its
// secret files nor list its directory, and is still started, health-checked and switched; an
// unknown user stops the agent at start.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../edge-agent/agent/process-identity.ts';
import { resolveServiceUser } from '../edge-agent/agent/service-user.ts';
import { silentLogger } from '../logging/index.ts';
import { eventually } from './support/eventually.ts';
import { TestFleet } from './support/agent-fleet.ts';
import { storeArtifact } from './support/agent-artifacts.ts';
import { startCli, type RunningCli } from './support/cli.ts';

/**
 * Prints who it runs as and what it could read, then serves 200 on the health port (with the
 * node that runs the tests): `sh ./svc AGENT_PID SECRET_FILE AGENT_DIR PORT NODE`.
 */
const probeScript = `#!/bin/sh
echo "uid=$(id -u) gid=$(id -g)"
if cat /proc/$1/environ >/dev/null 2>&1; then echo environ=readable; else echo environ=denied; fi
if cat "$2" >/dev/null 2>&1; then echo secret=readable; else echo secret=denied; fi
if ls "$3" >/dev/null 2>&1; then echo agentdir=listable; else echo agentdir=unlistable; fi
exec "$5" -e "require('node:http').createServer((request, response) => response.end('ok')).listen($4, '127.0.0.1')"
`;

const nobody = 65534;
let fleet: TestFleet;
let root: string;
const clis: RunningCli[] = [];

beforeAll(async () => {
  fleet = await TestFleet.start(['eu']);
  // The service user must pass through every parent of the agent dir (mkdtemp makes 0700).
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-svcuser-'));
  fs.chmodSync(root, 0o711);
});

afterEach(async () => {
  for (const cli of clis.splice(0)) {
    cli.kill('SIGTERM');
    await cli.done;
  }
});

afterAll(async () => {
  await fleet?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

function agentProcess(machine: string, env: Record<string, string>): RunningCli {
  const cli = startCli(['agent', '--region', 'eu', '--machine', machine, '--agent-services', 'svc'], {
    FLEETCAST_DATA_DIR: fleet.dataDir,
    FLEETCAST_AGENT_DIR: path.join(root, machine),
    FLEETCAST_NATS_URL: fleet.cluster.urls.agents.eu!,
    FLEETCAST_GOAL_PUBLIC_KEYS: fleet.keys.publicFile,
    FLEETCAST_AGENT_HEALTH_GRACE: '300ms',
    FLEETCAST_AGENT_HEALTH_TIMEOUT: '5s',
    FLEETCAST_STATUS_INTERVAL: '1s',
    FLEETCAST_AGENT_P2P: 'false',
    FLEETCAST_AGENT_STOP_SERVICES: 'true',
    FLEETCAST_LOG_LEVEL: 'info',
    ...env,
  });
  clis.push(cli);
  return cli;
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const running = (build: string) => (r: { state: string; build: string | null }) => r.state === 'running' && r.build === build;

/** The real uid, gid and supplementary groups of a process, from /proc. */
function credentialsOf(pid: number): { uid: number; gid: number; groups: string } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(status)![1]!.trim();
  return { uid: Number(field('Uid').split(/\s+/)[0]), gid: Number(field('Gid').split(/\s+/)[0]), groups: field('Groups') };
}

describe('FLEETCAST_SERVICE_USER', () => {
  it('runs the service as that user, who cannot read the agent\'s environment, secrets or directory; it is health-checked and switched', async () => {
    const dir = path.join(root, 'su-1');
    // A secret file an operator left readable in the agent dir: the agent narrows it at start.
    const secret = path.join(dir, 'p2p-identity.json');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A logs dir an older agent made by the umask is made private before the service starts.
    fs.mkdirSync(path.join(dir, 'services', 'svc', 'logs'), { recursive: true, mode: 0o755 });
    fs.writeFileSync(secret, 'the agent secret\n', { mode: 0o644 });
    fs.chmodSync(secret, 0o644);
    const agent = agentProcess('su-1', { FLEETCAST_SERVICE_USER: 'nobody', FLEETCAST_P2P_IDENTITY: secret });
    const lock = path.join(dir, 'agent.lock');
    await eventually(() => fs.existsSync(lock) && /\d/.test(fs.readFileSync(lock, 'utf8')), 20_000, 'the agent lock');
    const agentPid = Number(/\d+/.exec(fs.readFileSync(lock, 'utf8'))![0]);
    const store = await fleet.bucket('eu');
    const builds = [await storeArtifact([store], 'svc', 1, 4096, probeScript), await storeArtifact([store], 'svc', 2, 4096, probeScript)];
    const ports = [await freePort(), await freePort()];
    const goal = (i: number) =>
      builds[i]!.goal('eu', { runCommand: `sh ./svc ${agentPid} ${secret} ${dir} ${ports[i]} ${process.execPath}`, healthUrl: `http://127.0.0.1:${ports[i]}/health`, deployment: `d${i + 1}` });
    const processRecord = () => JSON.parse(fs.readFileSync(path.join(dir, 'services', 'svc', 'process.json'), 'utf8')) as { pid: number; build: string };

    await fleet.deploy(goal(0));
    await fleet.reportOf('eu', 'svc', 'su-1', running('b1'), 25_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${agent.output().stderr.slice(-4000)}`);
    });
    const first = processRecord();
    // Root's supplementary groups (root among them) are dropped too.
    expect(credentialsOf(first.pid)).toEqual({ uid: nobody, gid: nobody, groups: '' });
    const log = fs.readFileSync(path.join(dir, 'services', 'svc', 'logs', 'b1.log'), 'utf8');
    expect(log).toContain(`uid=${nobody} gid=${nobody}`);
    expect(log).toContain('environ=denied');
    expect(log).toContain('secret=denied');
    expect(log).toContain('agentdir=unlistable');
    // What the service reached: the path to its build, and nothing else of the agent's.
    const mode = (file: string) => (fs.statSync(file).mode & 0o777).toString(8);
    expect(mode(dir)).toBe('711');
    expect(mode(path.join(dir, 'services', 'svc', 'builds', 'b1'))).toBe('711');
    expect(mode(path.join(dir, 'services', 'svc', 'builds', 'b1', 'svc'))).toBe('755');
    expect(mode(path.join(dir, 'services', 'svc', 'logs'))).toBe('700');
    expect(mode(secret)).toBe('600');

    // A switch: b2 starts as the service user, passes its health URL, b1 is gone.
    await fleet.deploy(goal(1));
    await fleet.reportOf('eu', 'svc', 'su-1', running('b2'), 25_000);
    const second = processRecord();
    expect(second.build).toBe('b2');
    expect(credentialsOf(second.pid)).toEqual({ uid: nobody, gid: nobody, groups: '' });
    expect(isAlive(first.pid)).toBe(false);
    const answer = await fetch(`http://127.0.0.1:${ports[1]}/health`);
    expect(answer.status).toBe(200);
    await answer.body?.cancel();

    agent.kill('SIGTERM');
    expect((await agent.done).code).toBe(0);
    expect(isAlive(second.pid)).toBe(false);
  });

  it('an unknown user stops the agent at start with CONFIG_INVALID naming the setting', async () => {
    const run = await agentProcess('su-2', { FLEETCAST_SERVICE_USER: 'no-such-fleetcast-user' }).done;
    // 2: the exit code of CONFIG_INVALID.
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('FLEETCAST_SERVICE_USER=no-such-fleetcast-user: no such user on this machine');
  });

  it('unset, an agent running as root warns at start naming the setting', async () => {
    const agent = agentProcess('su-3', {});
    await eventually(() => agent.output().stderr.includes('"msg":"agent started"'), 20_000, 'the agent start');
    const warning = agent.output().stderr.split('\n').find((line) => line.includes('FLEETCAST_SERVICE_USER is unset'));
    expect(JSON.parse(warning!)).toMatchObject({ level: 40, msg: expect.stringContaining('the agent runs as root and FLEETCAST_SERVICE_USER is unset') });
    expect((fs.statSync(path.join(root, 'su-3')).mode & 0o777).toString(8)).toBe('700');
  });

  it('is CONFIG_INVALID, naming the setting, for a user this machine does not have or for root', async () => {
    await expect(resolveServiceUser('no-such-fleetcast-user', silentLogger())).rejects.toMatchObject({ code: 'CONFIG_INVALID', details: { setting: 'FLEETCAST_SERVICE_USER' } });
    await expect(resolveServiceUser('root', silentLogger())).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('FLEETCAST_SERVICE_USER=root is root') });
    await expect(resolveServiceUser(String(nobody), silentLogger())).resolves.toEqual({ name: String(nobody), uid: nobody, gid: nobody });
  });
});
