// Issue 21: `fleetcast up --ha` as a user runs it — 3 hub servers, 3 leaf servers per region, two
// coordinators, written into up.json as server lists — and a hub server killed -9 is restarted
// by `up` while client commands keep working.
import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { upFilePath, type UpFile } from '../up/index.ts';
import { poll, UpInstallation } from './support/up-installation.ts';

let up: UpInstallation;

beforeAll(async () => {
  up = await UpInstallation.start({ regions: ['eu'], agentsPerRegion: 1, ha: true });
}, 180_000);

afterAll(async () => {
  await up?.stop();
}, 90_000);

const upFile = () => JSON.parse(fs.readFileSync(upFilePath(up.dir), 'utf8')) as UpFile;
const pids = (file: UpFile, role: string) => file.processes.filter((p) => p.role === role).map((p) => p.pid);

it('up.json lists every server of the hub and of each region, and both coordinators answer', async () => {
  const file = upFile();
  expect(file.hubServers).toHaveLength(3);
  expect(file.leafServers?.eu).toHaveLength(3);
  // The keys clients already use stay, as lists FLEETCAST_NATS_URL takes.
  expect(file.hub).toBe(file.hubServers!.join(','));
  expect(file.leaves.eu).toBe(file.leafServers!.eu!.join(','));
  expect(pids(file, 'nats-hub')).toHaveLength(3);
  expect(pids(file, 'nats-leaf')).toHaveLength(3);
  expect(pids(file, 'coordinator')).toHaveLength(2);
  expect(file.apiUrls).toHaveLength(2);
  expect(file.apiUrls![0]).toBe(file.apiUrl);
  // Both over https, with the installation's own CA.
  for (const apiUrl of file.apiUrls!) {
    expect(apiUrl).toMatch(/^https:/);
    expect((await up.fetch(`${apiUrl}/healthz`)).ok, apiUrl).toBe(true);
  }
}, 30_000);

it('a hub server killed -9 is restarted by up, and client commands work meanwhile', async () => {
  const before = pids(upFile(), 'nats-hub');
  process.kill(before[0]!, 'SIGKILL');
  expect((await up.cli(['status', '--json'])).code).toBe(0);
  await poll(() => {
    const now = pids(upFile(), 'nats-hub');
    return now.length === 3 && !now.includes(before[0]!) && now;
  }, 60_000, 'up to restart the killed hub server');
}, 90_000);
