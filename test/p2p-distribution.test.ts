// Issue 7 end to end: three regions, a seeder and three agents each, on real NATS leaves and
// real Hyperswarm peers over a local DHT. A multi-block build deployed everywhere is installed
// byte-identical by every agent, fetched from peers (the regional bucket read by its seeder,
// about once per region — never by the agents); a rollback to a cached build moves no bytes.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { p2pIdentityEnv } from '../up/p2p-identities.ts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { BlobStore } from '../blobstore/index.ts';
import { coreKey } from '../goalstate/index.ts';
import { DhtBootstrap, loadSeederConfig, runSeeder, type SeederHandle } from '../edge-agent/index.ts';
import { silentLogger } from '../logging/index.ts';
import { TestFleet, type TestAgent } from './support/agent-fleet.ts';

const regions = ['eu', 'us', 'ap'];
const machinesPerRegion = 3;
const size = 6 * 1024 * 1024 + 12_345; // seven 1 MiB blocks, the last one short
const secret = randomBytes(32).toString('hex');
let fleet: TestFleet;
let dht: DhtBootstrap;
const seeders: SeederHandle[] = [];
const seederReads: Record<string, string[]> = {};
const agents: TestAgent[] = [];

/** Counts the objects a seeder reads from its regional bucket. */
function counting(store: BlobStore, reads: string[]): BlobStore {
  const get = store.get.bind(store);
  store.get = (name, options) => {
    reads.push(name);
    return get(name, options);
  };
  return store;
}

beforeAll(async () => {
  fleet = await TestFleet.start(regions);
  dht = await DhtBootstrap.start({ host: '127.0.0.1', port: 0 });
  for (const region of regions) {
    seederReads[region] = [];
    const config = loadSeederConfig({
      env: {
        FLEETCAST_DATA_DIR: fleet.dataDir,
        FLEETCAST_REGION: region,
        FLEETCAST_NATS_URL: fleet.cluster.urls.leaves[region]!,
        FLEETCAST_GOAL_PUBLIC_KEYS: fleet.keys.publicFile,
        FLEETCAST_SECRET: secret,
        FLEETCAST_DHT_BOOTSTRAP: dht.listen,
        FLEETCAST_SEEDER_DIR: path.join(fleet.dataDir, 'seeders', region),
        // Preheating is tested on its own: here the seeder acts on goals only.
        FLEETCAST_SEEDER_PREHEAT: '0',
        ...p2pIdentityEnv(fleet.dataDir, { role: 'seeder', region, name: `seeder-${region}`, machine: null }),
      },
    });
    seeders.push(await runSeeder(config, { logger: silentLogger(), retryMs: 200, store: counting(await fleet.bucket(region), seederReads[region]!) }));
    for (let n = 1; n <= machinesPerRegion; n++) {
      agents.push(
        await fleet.startAgent(region, `${region}-${n}`, {
          env: {
            FLEETCAST_AGENT_P2P: 'true',
            FLEETCAST_DHT_BOOTSTRAP: dht.listen,
            FLEETCAST_AGENT_BUCKET_FALLBACK: '60s',
            FLEETCAST_AGENT_SERVICES: 'web',
            ...p2pIdentityEnv(fleet.dataDir, { role: 'agent', region, name: `agent-${region}-${n}`, machine: `${region}-${n}` }),
          },
        }),
      );
    }
  }
}, 120_000);

afterAll(async () => {
  await fleet?.stopAgents();
  for (const seeder of seeders) await seeder.stop();
  await dht?.close();
  await fleet?.stop();
});

const deployEverywhere = async (artifact: Awaited<ReturnType<TestFleet['artifact']>>, deployment: string) => {
  for (const region of regions) await fleet.deploy(artifact.goal(region, { p2pKey: coreKey(secret, artifact.digest), deployment, runCommand: './web' }));
};
const waitRunning = (build: string) =>
  Promise.all(agents.map((agent) => fleet.reportOf(agent.region, 'web', agent.machine, (r) => r.state === 'running' && r.build === build, 90_000)));
const marker = (agent: TestAgent, build: string) => JSON.parse(fs.readFileSync(path.join(agent.serviceDir('web'), 'builds', build, '.verified'), 'utf8'));

it('every agent installs the same bytes from its region\'s peers; the bucket is read by the seeders, about once per region', async () => {
  const first = await fleet.artifact('web', 1, size);
  await deployEverywhere(first, 'd1');
  await waitRunning('b1');
  for (const agent of agents) {
    const file = path.join(agent.serviceDir('web'), 'builds', 'b1', 'web');
    expect(createHash('sha256').update(fs.readFileSync(file)).digest('hex'), agent.machine).toBe(first.digest);
    expect(agent.current('web')).toBe('builds/b1');
    expect(agent.runs('web').some((run) => run.build === 'b1'), `${agent.machine} ran b1`).toBe(true);
    // All of it from peers: no agent read the bucket.
    expect(marker(agent, 'b1').fetched, agent.machine).toEqual({ fromPeers: size, fromBucket: 0 });
    expect(agent.reads, agent.machine).toEqual([]);
  }
  for (const region of regions) {
    const reads = seederReads[region]!.filter((name) => name === first.goal(region).artifact);
    expect(reads.length, `bucket reads in ${region}`).toBeGreaterThanOrEqual(1);
    expect(reads.length, `bucket reads in ${region}`).toBeLessThanOrEqual(2);
  }
}, 180_000);

it('a rollback to a build the agents keep is a switch with no transfer', async () => {
  const second = await fleet.artifact('web', 2, size);
  await deployEverywhere(second, 'd2');
  await waitRunning('b2');
  const fileOf = (agent: TestAgent) => fs.statSync(path.join(agent.serviceDir('web'), 'builds', 'b1', 'web'), { bigint: true });
  const before = { seeder: Object.values(seederReads).flat().length, files: agents.map((agent) => [fileOf(agent).ino, fileOf(agent).mtimeNs]) };
  // Back to b1: its goal as the coordinator's rollback writes it (same build, new deployment).
  const b1 = JSON.parse(fs.readFileSync(path.join(agents[0]!.serviceDir('web'), 'builds', 'b1', '.verified'), 'utf8')).goal;
  for (const region of regions) await fleet.deploy({ ...b1, region, deployment: 'd3', kind: 'rollback' });
  await waitRunning('b1');
  for (const [i, agent] of agents.entries()) {
    expect(agent.current('web'), agent.machine).toBe('builds/b1');
    // The very file installed the first time: not fetched, not written again.
    expect([fileOf(agent).ino, fileOf(agent).mtimeNs], `${agent.machine} reused its verified b1`).toEqual(before.files[i]);
    expect(agent.reads, agent.machine).toEqual([]);
  }
  expect(Object.values(seederReads).flat().length).toBe(before.seeder);
}, 180_000);
