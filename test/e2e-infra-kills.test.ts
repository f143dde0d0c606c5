// Issue 9, kill -9 of the infrastructure under a whole installation of real fleetcast processes:
// a region's NATS leaf and the NATS hub while agents download a deployed build, and MariaDB (a
// private server, restarted on its data dir) while a build runs. Afterwards every build is
// terminal and ran once per recorded attempt, every copy is DONE, every agent runs the goal build
// with its digest, and the coordinator deploys again without a restart.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually } from './support/eventually.ts';
import { FaultInstallation } from './support/fault-installation.ts';
import { expectAgentsOn, expectAllSettled, expectBuiltOnce, FaultService } from './support/fault-scenario.ts';
import { PrivateMariaDb } from './support/private-mariadb.ts';

const MiB = 1024 * 1024;
const artifactSize = 8 * MiB + 999;
let mariadb: PrivateMariaDb;
let install: FaultInstallation;
let web: FaultService;

beforeAll(async () => {
  mariadb = await PrivateMariaDb.start();
  install = await FaultInstallation.start({ databaseUrl: mariadb.url, roleEnv: { agent: { FLEETCAST_P2P_DOWNLOAD_LIMIT: '2M' } } });
  web = await FaultService.register(install);
}, 180_000);

afterAll(async () => {
  await install?.stop();
  await mariadb?.destroy();
  web?.repo.remove();
}, 60_000);

const downloading = (region: string) =>
  eventually(async () => {
    const status = await install.api('GET', '/v1/services/web/status');
    return status.json.regions.find((r: { region: string }) => r.region === region)?.convergence.downloading.machines > 0;
  }, 30_000, `${region} machines downloading`);

it("a region's NATS leaf killed -9 while its machines download: they finish and run the build once it is back", async () => {
  const id = await web.queue(install, 0, artifactSize);
  const build = await expectBuiltOnce(install, web, id);
  await install.json(['deploy', id]);
  await downloading('eu');
  await install.cluster.restartLeaf('eu', { kill: true });
  await install.converged('web', id, 2);
  expectAgentsOn(install, 'web', build);
}, 120_000);

it('the NATS hub killed -9 mid-rollout: the regions carry on, and the coordinator deploys again once it is back', async () => {
  const id = await web.queue(install, 0, artifactSize);
  const build = await expectBuiltOnce(install, web, id);
  await install.json(['deploy', id]);
  await downloading('us');
  await install.cluster.restartHub({ kill: true });
  await install.converged('web', id, 2);
  expectAgentsOn(install, 'web', build);

  // The coordinator reconnected by itself: the next deploy is written and reaches every machine.
  const next = await web.queue(install, 0, 1024);
  const nextBuild = await expectBuiltOnce(install, web, next);
  await eventually(async () => (await install.cli(['deploy', next, '--json'])).code === 0, 30_000, `a deploy of ${next} to be accepted`);
  await install.converged('web', next, 2);
  expectAgentsOn(install, 'web', nextBuild);
}, 150_000);

it('MariaDB killed -9 while a build runs and restarted: the build ends SUCCEEDED, ran once per attempt, copied everywhere', async () => {
  const id = await web.queue(install, 3, 4096);
  await web.running(id);
  await mariadb.kill9();
  // The API says the database is away rather than hanging or crashing.
  const away = await install.api('GET', `/v1/builds/${id}`).catch((err: Error) => ({ status: 0, json: err.message }));
  expect(away.status, JSON.stringify(away.json)).not.toBe(200);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await mariadb.startServer();
  const build = await expectBuiltOnce(install, web, id);
  expect(build.attempts).toBeLessThanOrEqual(2);
  // Every process lived through it: none exited.
  for (const role of install.roles.values()) expect(role.pid, `${role.name} still running`).toBeDefined();
}, 120_000);

it('after every kill: every build is terminal, each copied everywhere', async () => {
  await expectAllSettled(install);
}, 60_000);
