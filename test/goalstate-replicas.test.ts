// Issue 21: FLEETCAST_NATS_REPLICAS on clustered NATS (3 hub servers, 3 leaf servers per region).
// Buckets made with one copy (a fleet that ran single servers) are raised to three by the next
// ensureBuckets(), and with the server leading `goal` killed -9 a goal is still written and
// reaches the region's mirror.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GoalWriter, RegionGoalView } from '../goalstate/index.ts';
import { eventually } from './support/eventually.ts';
import { testGoalKeys } from './support/goal-keys.ts';
import { TestNatsCluster } from './support/nats-cluster.ts';
import { sampleGoal } from './support/sample-goal.ts';

const regions = ['eu'];
const connect = { maxReconnectDelayMs: 300, timeoutMs: 3_000 };
const keys = testGoalKeys();
const signing = { signingKey: keys.signingKey, keyring: keys.keyring };
let cluster: TestNatsCluster;

beforeAll(async () => {
  cluster = await TestNatsCluster.start(regions, { nodes: 3 });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
}, 30_000);

const replicas = async (stream: string, domain?: string) => (await (await cluster.rawManager(cluster.urls.hub, domain)).streams.info(stream)).config.num_replicas;

it('buckets made with one copy get three at the next ensureBuckets()', async () => {
  const single = await GoalWriter.connect({ url: cluster.urls.hub, regions, connect, ...signing });
  await single.ensureBuckets();
  expect(await replicas('KV_goal')).toBe(1);
  await single.close();

  const writer = await GoalWriter.connect({ url: cluster.urls.hub, regions, connect, replicas: 3, ...signing });
  await writer.ensureBuckets();
  expect(await replicas('KV_goal')).toBe(3);
  expect(await replicas('KV_goal-eu', 'eu')).toBe(3);
  expect(await replicas('KV_status-eu', 'eu')).toBe(3);
  await writer.close();
}, 60_000);

it("with the hub server leading goal killed -9, a goal is written and reaches the region's mirror", async () => {
  const writer = await GoalWriter.connect({ url: cluster.urls.hub, regions, connect, replicas: 3, ...signing });
  const view = await RegionGoalView.connect({ url: cluster.urls.agents.eu!, region: 'eu', connect, keyring: keys.keyring });
  try {
    const jsm = await cluster.rawManager(cluster.urls.hub);
    const leader = await eventually(async () => (await jsm.streams.info('KV_goal')).cluster?.leader, 10_000, 'a leader of KV_goal');
    await cluster.stopHub({ kill: true, node: Number(/-(\d+)$/.exec(leader)![1]) });
    const goal = sampleGoal('api', 'eu', 7);
    // The first write may meet the election of a new leader: retried as a deploy's wave runner would.
    await eventually(async () => (await writer.put(goal, { expectedRevision: null }).then(() => true, () => false)), 30_000, 'a goal written with the leader gone');
    await eventually(async () => (await view.get('api'))?.goal.build === 'b7', 30_000, 'the goal in the mirror of eu');
  } finally {
    await view.close();
    await writer.close();
  }
}, 90_000);
