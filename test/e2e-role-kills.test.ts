// Issue 9, kill -9 of each fleetcast role while it works, on a whole installation of real
// processes (MariaDB, private NATS hub + two leaves, DHT, coordinator, two builder workers, a
// replicator, a seeder and two agents per region). After each kill and restart: the build is
// terminal and its command ran exactly once per recorded attempt (the killed worker's build
// process died with it), every region's copy is DONE, every agent runs the goal build with its
// digest, the bytes from peers — and a killed agent resumes its download where it stopped.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually } from './support/eventually.ts';
import { freshDatabase, type TestDatabase } from './support/databases.ts';
import { alive, FaultInstallation } from './support/fault-installation.ts';
import { processesUnder } from './support/processes.ts';
import { expectAgentsOn, expectAllSettled, expectBuiltOnce, FaultService } from './support/fault-scenario.ts';

const MiB = 1024 * 1024;
const artifactSize = 8 * MiB + 4321;
let db: TestDatabase;
let install: FaultInstallation;
let web: FaultService;

/** Every live process's command line, its arguments joined by spaces. */
function commandLines(): string[] {
  return fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).flatMap((entry) => {
    try {
      return [`${fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ')} `];
    } catch {
      return [];
    }
  });
}

beforeAll(async () => {
  db = await freshDatabase('mysql');
  install = await FaultInstallation.start({
    databaseUrl: db.url!,
    // Two MiB/s per agent: an 8 MiB build takes seconds to arrive, long enough to kill something mid-way.
    roleEnv: { agent: { FLEETCAST_P2P_DOWNLOAD_LIMIT: '2M' } },
    regionalBucketsApart: true,
  });
  web = await FaultService.register(install);
}, 180_000);

afterAll(async () => {
  await install?.stop();
  await db?.drop();
  web?.repo.remove();
}, 60_000);

it('a builder worker killed -9 mid-build: its build process dies with it, the build is re-run once and SUCCEEDS', async () => {
  const id = await web.queue(install, 60, 1024);
  const sleepPid = await web.running(id);
  const owner = (await install.build(id)).claimedBy as string;
  expect(owner).toMatch(/^worker-\d$/);
  const killedPid = install.role(owner).pid!;
  await install.role(owner).kill9();
  // The watchdog kills the orphaned build group: it must not keep running beside the next attempt.
  await eventually(() => !alive(sleepPid), 10_000, `the killed worker's build process ${sleepPid} to die`);
  await install.role(owner).start();

  const build = await expectBuiltOnce(install, web, id);
  expect(build.attempts).toBe(2);
  expect(web.sleeps(id).filter(alive)).toEqual([]);
  // The watchdog went with the group it watched.
  await eventually(() => commandLines().every((line) => !(line.includes('fleetcast-build-watchdog') && line.includes(` ${killedPid} `))), 5_000, 'the watchdog to exit');
}, 90_000);

it('the coordinator killed -9 while a build runs: the build finishes untouched, replication and the API come back', async () => {
  const id = await web.queue(install, 3, artifactSize);
  await web.running(id);
  await install.role('coordinator').kill9();
  await install.role('coordinator').start();
  const build = await expectBuiltOnce(install, web, id);
  expect(build.attempts).toBe(1);
}, 90_000);

it('the replicator killed -9 mid-copy: the copy is claimed again and every region ends DONE', async () => {
  const id = await web.queue(install, 0, 128 * MiB);
  // Evidence it is mid-work: a region's copy is COPYING.
  const copying = await eventually(async () => (await install.build(id)).replication?.find((r: { status: string }) => r.status === 'COPYING'), 60_000, `a copy of ${id} in progress`);
  await install.role('replicator').kill9();
  const cut = await install.build(id);
  expect(cut.replication.some((r: { status: string }) => r.status !== 'DONE'), JSON.stringify(cut.replication)).toBe(true);
  await install.role('replicator').start();
  const build = await expectBuiltOnce(install, web, id);
  // Claimed again after the reaper saw the killed replicator's heartbeat stop.
  expect(build.replication.find((r: { region: string }) => r.region === copying.region).attempts).toBeGreaterThanOrEqual(2);
  for (const region of install.regions) expect(fs.statSync(path.join(install.dir, 'buckets', `fleetcast-${region}`, 'artifacts', 'web', id, build.digest)).size).toBe(128 * MiB);
}, 120_000);

it('a seeder killed -9 while its region downloads: the agents finish from peers once it is back', async () => {
  const id = await web.queue(install, 0, artifactSize);
  const build = await expectBuiltOnce(install, web, id);
  await install.json(['deploy', id]);
  await eventually(async () => {
    const status = await install.api('GET', '/v1/services/web/status');
    return status.json.regions.find((r: { region: string }) => r.region === 'eu')?.convergence.downloading.machines > 0;
  }, 30_000, 'eu machines downloading');
  await install.role('seeder-eu').kill9();
  await install.role('seeder-eu').start();
  await install.converged('web', id, 2);
  expectAgentsOn(install, 'web', build);
}, 120_000);

it('an agent killed -9 mid-download resumes its P2P download on restart and runs the goal build', async () => {
  const id = await web.queue(install, 0, artifactSize);
  const build = await expectBuiltOnce(install, web, id);
  const agent = install.role('agent-eu-1');
  const partial = path.join(install.agentDir('eu-1'), 'services', 'web', 'builds', id, '.partial');
  await install.json(['deploy', id]);
  await eventually(() => fs.existsSync(partial) && fs.statSync(partial).size >= 2 * MiB, 30_000, 'eu-1 to write 2 MiB of the build');
  // Blocks are written at their offsets as they arrive (in any order) and recorded as held right
  // after; a moment lets the record catch up with the file.
  await new Promise((resolve) => setTimeout(resolve, 300));
  await agent.kill9();
  const mark = agent.lines.length;
  await agent.start();
  await install.converged('web', id, 2);
  expectAgentsOn(install, 'web', build);
  // Resumed: the restarted agent read what it held, and fetched only the rest.
  const resumed = agent.lines.slice(mark).flatMap((line) => (line.startsWith('{') ? [JSON.parse(line)] : [])).find((entry) => entry.build === id && entry.msg?.startsWith('fetching build'));
  expect(resumed, 'the restarted agent fetches the build from peers').toBeDefined();
  expect(resumed.held, 'blocks the restarted agent held').toBeGreaterThan(0);
  const marker = JSON.parse(fs.readFileSync(path.join(install.agentDir('eu-1'), 'services', 'web', 'builds', id, '.verified'), 'utf8'));
  expect(marker.fetched.fromPeers, `eu-1 fetched after its restart (it held ${resumed.heldBytes} bytes)`).toBe(artifactSize - resumed.heldBytes);
  // One service process on the machine: the restarted agent adopted or replaced it, never doubled it.
  const services = processesUnder(install.agentDir('eu-1')).filter((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\0'));
  expect(services).toHaveLength(1);
}, 120_000);

it('after every kill: every build is terminal, each copied everywhere', async () => {
  await expectAllSettled(install);
}, 60_000);
