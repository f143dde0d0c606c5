// Issue 21, clustered NATS under a whole installation of real fleetcast processes (what
// `fleetcast up --ha` runs: a 3-server hub, 3 leaf servers per region, every bucket R3, every
// process given the list of its servers, 2 coordinators). kill -9 of the hub server leading the
// `goal` stream and of the leaf server leading each region's mirror while the machines download
// a deployed build: every machine still runs the exact bytes; with those servers still down, a
// rollback reaches every machine. The build is 8 MiB (not the 64 MiB) to keep the run short
// on a shared 2-core machine; the NATS path a goal and a status report take does not depend on it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually } from './support/eventually.ts';
import { freshDatabase, type TestDatabase } from './support/databases.ts';
import { FaultInstallation } from './support/fault-installation.ts';
import { expectAgentsOn, expectBuiltOnce, FaultService } from './support/fault-scenario.ts';

const MiB = 1024 * 1024;
const artifactSize = 8 * MiB + 321;
const agentsPerRegion = 3;
let db: TestDatabase;
let install: FaultInstallation;
let web: FaultService;
let first: { id: string; digest: string; size: number };
const killed: string[] = [];

beforeAll(async () => {
  db = await freshDatabase('mysql');
  install = await FaultInstallation.start({ databaseUrl: db.url!, ha: true, agentsPerRegion, roleEnv: { agent: { FLEETCAST_P2P_DOWNLOAD_LIMIT: '2M' } } });
  web = await FaultService.register(install);
}, 240_000);

afterAll(async () => {
  await install?.stop();
  await db?.drop();
  web?.repo.remove();
}, 90_000);

/** The server (its 1-based node number) leading a stream of a domain's JetStream cluster. */
async function leaderNode(stream: string, domain?: string): Promise<number> {
  const jsm = await install.cluster.rawManager(install.cluster.urls.hub, domain);
  const leader = await eventually(async () => (await jsm.streams.info(stream)).cluster?.leader, 10_000, `a leader of ${stream}`);
  const node = Number(/-(\d+)$/.exec(leader)?.[1]);
  expect(node, `leader ${leader} of ${stream}`).toBeGreaterThan(0);
  return node;
}

const downloading = (region: string) =>
  eventually(async () => {
    const status = await install.api('GET', '/v1/services/web/status');
    return status.json.regions.find((r: { region: string }) => r.region === region)?.convergence.downloading.machines > 0;
  }, 30_000, `${region} machines downloading`);

it('every bucket is replicated on 3 servers of its cluster', async () => {
  const hub = await install.cluster.rawManager(install.cluster.urls.hub);
  expect((await hub.streams.info('KV_goal')).config.num_replicas).toBe(3);
  for (const region of install.regions) {
    const leaf = await install.cluster.rawManager(install.cluster.urls.hub, region);
    expect((await leaf.streams.info(`KV_goal-${region}`)).config.num_replicas, region).toBe(3);
    expect((await leaf.streams.info(`KV_status-${region}`)).config.num_replicas, region).toBe(3);
  }
}, 60_000);

it("kill -9 of the goal stream's hub server and of each region's mirror leader mid-download: every machine runs the exact bytes", async () => {
  const firstId = await web.queue(install, 0, 4096);
  first = await expectBuiltOnce(install, web, firstId);
  await install.json(['deploy', firstId]);
  await install.converged('web', firstId, agentsPerRegion);

  const id = await web.queue(install, 0, artifactSize);
  const build = await expectBuiltOnce(install, web, id);
  await install.json(['deploy', id]);
  await downloading('eu');
  // Leaders looked up first: right after a hub server dies, requests to a region's JetStream wait
  // for that region's links to move to another hub server.
  const hubNode = await leaderNode('KV_goal');
  const leafNodes = new Map<string, number>();
  for (const region of install.regions) leafNodes.set(region, await leaderNode(`KV_goal-${region}`, region));
  await install.cluster.stopHub({ kill: true, node: hubNode });
  killed.push(`hub-${hubNode}`);
  for (const [region, leafNode] of leafNodes) {
    await install.cluster.stopLeaf(region, { kill: true, node: leafNode });
    killed.push(`leaf-${region}-${leafNode}`);
  }
  await install.converged('web', id, agentsPerRegion, 120_000);
  expectAgentsOn(install, 'web', build);
}, 240_000);

it('with a hub server and a leaf server per region still down, a rollback reaches every machine', async () => {
  expect(killed).toHaveLength(1 + install.regions.length);
  const rolled = await install.cli(['rollback', 'web', '--json']);
  expect(rolled.code, `${rolled.stdout}\n${rolled.stderr}`).toBe(0);
  await install.converged('web', first.id, agentsPerRegion, 120_000);
  expectAgentsOn(install, 'web', first);
}, 180_000);
