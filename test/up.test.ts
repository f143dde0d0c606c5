// `fleetcast up` as a user runs it (the real executable): every role ready, up.json as DESIGN.md
// fixes it, client commands finding the installation through FLEETCAST_DATA_DIR; a child killed
// with -9 comes back; SIGTERM stops everything (no process left, up.json gone); and `up` itself
// killed with -9 leaves no fleetcast process behind, and a new `up` on the same dir cleans up
// the NATS servers the dead one left.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { connectNats } from '../goalstate/index.ts';
import { eventually } from './support/eventually.ts';
import { onlyJson, runCli } from './support/cli.ts';
import { spawnTs, type JsonProcess } from './support/processes.ts';

const started: JsonProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const up of started.splice(0)) {
    up.kill('SIGTERM');
    await Promise.race([up.exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    up.kill('SIGKILL');
  }
  for (const dir of dirs.splice(0)) {
    for (const pid of processesUnder(dir)) process.kill(pid, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function startUp(dir: string): JsonProcess {
  const up = spawnTs('bin/fleetcast.js', { FLEETCAST_LOG_LEVEL: 'warn' }, ['up', '--dir', dir, '--regions', 'eu,us', '--agents', '1', '--workers', '1']);
  started.push(up);
  return up;
}

const upFile = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'up.json'), 'utf8'));
const waitForUpFile = (dir: string) => eventually(() => fs.existsSync(path.join(dir, 'up.json')) && upFile(dir), 90_000, 'up.json');

/** Live processes whose command line or working files name `dir` (fleetcast roles, nats-servers). */
function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const env = fs.readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (Number(entry) !== process.pid && (cmdline.includes(dir) || env.includes(`FLEETCAST_DATA_DIR=${dir}`))) pids.push(Number(entry));
    } catch {
      // gone, or not ours
    }
  }
  return pids;
}

it('starts every role, writes up.json, restarts a killed child, and stops everything on SIGTERM', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-up-'));
  dirs.push(dir);
  const up = startUp(dir);
  const file = await waitForUpFile(dir);
  expect(file).toMatchObject({ apiUrl: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/), token: expect.stringMatching(/^[0-9a-f]{64}$/), regions: ['eu', 'us'], hub: expect.stringMatching(/^tls:\/\//) });
  expect(Object.keys(file.leaves)).toEqual(['eu', 'us']);
  const roles = file.processes.map((p: { role: string; region?: string; machine?: string }) => [p.role, p.region ?? null, p.machine ?? null]);
  expect(roles).toEqual(
    expect.arrayContaining([
      ['nats-hub', null, null],
      ['nats-leaf', 'eu', null],
      ['nats-leaf', 'us', null],
      ['dht', null, null],
      ['coordinator', null, null],
      ['worker', null, null],
      ['seeder', 'eu', null],
      ['seeder', 'us', null],
      ['agent', 'eu', 'eu-1'],
      ['agent', 'us', 'us-1'],
    ]),
  );
  for (const p of file.processes) expect(() => process.kill(p.pid, 0), p.role).not.toThrow();

  // Clients find it through the data dir alone.
  const status = await runCli(['builds', '--json'], { FLEETCAST_DATA_DIR: dir });
  expect(status.code, status.stderr).toBe(0);
  expect(onlyJson(status)).toEqual({ builds: [], next: null });
  // The API speaks only TLS, with a certificate of the installation's CA (up.json's `ca`, which
  // the CLI above trusted): a plaintext request gets no answer.
  const plaintext = await fetch(`${file.apiUrl.replace(/^https:/, 'http:')}/healthz`).then(
    (response) => `answered ${response.status}`,
    (err: Error) => err.name,
  );
  expect(plaintext).toBe('TypeError');

  // kill -9 of an agent: `up` starts it again.
  const agent = file.processes.find((p: { role: string; region?: string }) => p.role === 'agent' && p.region === 'eu');
  process.kill(agent.pid, 'SIGKILL');
  await eventually(() => {
    const log = fs.readFileSync(path.join(dir, 'logs', 'agent-eu-1.log'), 'utf8');
    return (log.match(/"msg":"agent ready"/g) ?? []).length >= 2;
  }, 30_000, 'the agent to be ready again');
  const restarted = await eventually(() => upFile(dir).processes.find((p: { role: string; region?: string; pid: number }) => p.role === 'agent' && p.region === 'eu' && p.pid !== agent.pid), 10_000, 'up.json to name the new agent pid');
  expect(alive(restarted.pid)).toBe(true);
  // A NATS leaf killed with -9 comes back too (same port, so clients reconnect).
  const leaf = file.processes.find((p: { role: string; region?: string }) => p.role === 'nats-leaf' && p.region === 'us');
  process.kill(leaf.pid, 'SIGKILL');
  await eventually(() => upFile(dir).processes.some((p: { role: string; region?: string; pid: number }) => p.role === 'nats-leaf' && p.region === 'us' && p.pid !== leaf.pid && alive(p.pid)), 30_000, 'the us leaf to be restarted');

  // Every process has its own NATS identity; up.json carries no password; every link is TLS.
  expect(JSON.stringify([file.hub, file.leaves])).not.toContain('@');
  expect([file.hub, ...Object.values(file.leaves)]).toEqual([expect.stringMatching(/^tls:\/\//), expect.stringMatching(/^tls:\/\//), expect.stringMatching(/^tls:\/\//)]);
  expect(file.ca).toBe(path.join(dir, 'tls', 'ca.crt'));
  const creds = onlyJson(await runCli(['creds', 'list', '--json'], { FLEETCAST_DATA_DIR: dir }));
  expect(creds.identities.map((i: { name: string }) => i.name).sort()).toEqual(['agent-eu-eu-1', 'agent-us-us-1', 'coordinator', 'seeder-eu-1', 'seeder-us-1']);
  // Revoking one machine with the CLI: up has the leaf reload its users, that machine can no
  // longer connect, the other region's machine still can.
  const credsFile = (name: string) => path.join(dir, 'nats-identities', 'creds', `${name}.nk`);
  const canConnect = (url: string, name: string) =>
    connectNats({ url, credsFile: credsFile(name), caFile: file.ca, role: 'a leaf', timeoutMs: 2_000 }).then(
      async (nc) => (await nc.close(), true),
      () => false,
    );
  expect(await canConnect(file.leaves.us, 'agent-us-us-1')).toBe(true);
  const revoke = await runCli(['creds', 'revoke', 'agent', '--region', 'us', '--machine', 'us-1'], { FLEETCAST_DATA_DIR: dir });
  expect(revoke.code, revoke.stderr).toBe(0);
  await eventually(async () => !(await canConnect(file.leaves.us, 'agent-us-us-1')), 15_000, 'the us leaf to refuse the revoked machine');
  expect(await canConnect(file.leaves.eu, 'agent-eu-eu-1')).toBe(true);

  up.kill('SIGTERM');
  expect((await up.exited).code).toBe(0);
  expect(fs.existsSync(path.join(dir, 'up.json'))).toBe(false);
  await eventually(() => processesUnder(dir).length === 0, 10_000, `every process of the installation to end (left: ${processesUnder(dir).join(', ')})`);
}, 180_000);

it('killed with -9, it leaves no fleetcast process behind; the next up on the dir cleans up its NATS servers', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-up-'));
  dirs.push(dir);
  const first = startUp(dir);
  const before = await waitForUpFile(dir);
  first.kill('SIGKILL');
  await first.exited;
  // The roles notice their parent is gone and stop; the NATS servers cannot.
  const roles = before.processes.filter((p: { role: string }) => !p.role.startsWith('nats'));
  await eventually(() => roles.every((p: { pid: number }) => !alive(p.pid)), 20_000, 'the roles of the killed up to stop');
  const second = startUp(dir);
  await eventually(() => fs.existsSync(path.join(dir, 'up.json')) && upFile(dir).apiUrl !== before.apiUrl && upFile(dir), 90_000, 'the second up to be ready');
  for (const p of before.processes.filter((p: { role: string }) => p.role.startsWith('nats'))) expect(alive(p.pid), `stale ${p.role} ${p.region ?? ''}`).toBe(false);
  second.kill('SIGTERM');
  expect((await second.exited).code).toBe(0);
}, 240_000);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !fs.readFileSync(`/proc/${pid}/status`, 'utf8').includes('State:\tZ');
  } catch {
    return false;
  }
}
