// The goal travels from the hub's `goal` bucket to each region's mirror, and regions keep their
// goal through a hub outage and a leaf restart. Real nats-server processes, no mocks.
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFleetcastError } from '../errors/index.ts';
import { GoalWriter, RegionGoalView, type GoalUpdate, type GoalWatch } from '../goalstate/index.ts';
import { ResilientWatch } from '../goalstate/resilient-watch.ts';
import { silentLogger } from '../logging/index.ts';
import { eventually } from './support/eventually.ts';
import { sampleGoal } from './support/sample-goal.ts';
import { testGoalKeys } from './support/goal-keys.ts';

const keys = testGoalKeys();
import { TestNatsCluster } from './support/nats-cluster.ts';

const regions = ['eu', 'us', 'ap'];
let cluster: TestNatsCluster;
let writer: GoalWriter;
const views: Record<string, RegionGoalView> = {};
const seen: Record<string, GoalUpdate[]> = {};
const watches: GoalWatch[] = [];
const fastReconnect = { maxReconnectDelayMs: 300, timeoutMs: 2_000 };

beforeAll(async () => {
  cluster = await TestNatsCluster.start(regions);
  writer = await GoalWriter.connect({ url: cluster.urls.hub, regions, connect: fastReconnect, signingKey: keys.signingKey, keyring: keys.keyring });
  // Agents may start before the coordinator created their region's mirror: they wait for it.
  for (const region of regions) {
    // As an agent: the agent user of the region's leaf, which may only read goal-<region>.
    views[region] = await RegionGoalView.connect({ url: cluster.urls.agents[region]!, region, keyring: keys.keyring, connect: fastReconnect });
    seen[region] = [];
    watches.push(views[region].watch(['api'], (update) => void seen[region]!.push(update), { minRetryMs: 100, maxRetryMs: 300 }));
  }
  await writer.ensureBuckets();
  await Promise.all(watches.map((watch) => watch.ready));
});

afterAll(async () => {
  keys.remove();
  for (const view of Object.values(views)) await view.close();
  await writer?.close();
  await cluster?.stop();
});

const latestBuild = (region: string) => seen[region]!.at(-1)?.goal?.build;

describe('goal state replication hub → regional leaves', () => {
  it('a deploy to three regions is read from each region\'s mirror and reaches its watchers', async () => {
    for (const [i, region] of regions.entries()) {
      const revision = (await writer.put(sampleGoal('api', region, 40 + i), { expectedRevision: null })).revision;
      expect(revision).toBeGreaterThan(0);
    }
    for (const [i, region] of regions.entries()) {
      const read = await eventually(async () => (await views[region]!.get('api')) ?? undefined, 10_000, `goal of api in ${region}`);
      expect(read.goal).toMatchObject({ service: 'api', region, build: `b${40 + i}` });
      // A full mirror keeps the hub's revisions: the same number names the same goal everywhere.
      expect(read.revision).toBe((await writer.get('api', region))!.revision);
      await eventually(() => latestBuild(region) === `b${40 + i}`, 10_000, `watch of ${region}`);
    }
    // Each region sees only its own key.
    expect(seen.eu!.every((u) => u.region === 'eu')).toBe(true);
  });

  it('with the hub down, regions keep their goal and agents keep reading; writes fail clearly; then it resumes', async () => {
    const before = (await writer.get('api', 'eu'))!;
    await cluster.stopHub();
    try {
      for (const region of regions) {
        const read = await views[region]!.get('api');
        expect(read?.goal.service).toBe('api');
      }
      expect((await views.eu!.get('api'))!.goal.build).toBe(before.goal.build);
      expect(watches[0]!.current('api')?.goal?.build).toBe(before.goal.build);
      const failure = await writer.put(sampleGoal('api', 'eu', 50), { expectedRevision: before.revision }).catch((err: unknown) => err);
      expect(isFleetcastError(failure, 'NATS_UNAVAILABLE')).toBe(true);
      expect((failure as Error).message).toMatch(/the NATS hub at nats:\/\/coordinator:\*\*\*@127\.0\.0\.1:\d+/);
      expect((failure as Error).message).not.toContain(new URL(cluster.urls.hub).password);
    } finally {
      await cluster.startHub();
    }
    // The hub is back: a write goes through and reaches the region again.
    await eventually(async () => writer.put(sampleGoal('api', 'eu', 51), { expectedRevision: (await writer.get('api', 'eu'))!.revision }).catch(() => undefined), 15_000, 'a write after the hub restart');
    await eventually(() => latestBuild('eu') === 'b51', 15_000, 'b51 in eu after the hub restart');
  });

  it('a restarted leaf catches up with the writes made while it was down, and its watchers get the latest goal', async () => {
    await cluster.stopLeaf('us', { kill: true });
    let revision = (await writer.get('api', 'us'))!.revision;
    for (const n of [60, 61, 62]) revision = (await writer.put(sampleGoal('api', 'us', n), { expectedRevision: revision })).revision;
    // While us is down, the other regions are unaffected.
    expect((await views.eu!.get('api'))!.goal.build).toBe('b51');
    expect(watches[1]!.current('api')?.goal?.build).toBe('b41');

    const started = Date.now();
    await cluster.startLeaf('us');
    await eventually(() => latestBuild('us') === 'b62', 20_000, 'the us watcher to get b62');
    const caughtUpMs = Date.now() - started;
    expect((await views.us!.get('api'))!.goal.build).toBe('b62');
    // Level-triggered: never an older goal after a newer one, whatever the mirror replays.
    const builds = seen.us!.map((u) => Number(u.goal!.build.slice(1)));
    expect(builds).toEqual([...builds].sort((a, b) => a - b));
    console.log(`leaf us caught up and its watcher saw b62 ${caughtUpMs} ms after the leaf restarted`);
  });

  it('a prefetch hint reaches its region\'s mirror and the watches that ask for hints, after the goals; other watches never see it', async () => {
    const goals: GoalUpdate[] = [];
    const hints: GoalUpdate[] = [];
    const errors: unknown[] = [];
    const hintWatch = views.us!.watch(['web'], (update) => void goals.push(update), { onPrefetch: (update) => void hints.push(update), onError: (err) => errors.push(err) });
    const goalOnly: GoalUpdate[] = [];
    const allServices = views.us!.watch(undefined, (update) => void goalOnly.push(update), { onError: (err) => errors.push(err) });
    try {
      await Promise.all([hintWatch.ready, allServices.ready]);
      const goalRevision = (await writer.put(sampleGoal('web', 'us', 1), { expectedRevision: null })).revision;
      const hintRevision = (await writer.putPrefetch(sampleGoal('web', 'us', 2, { deployment: 'd2' }))).revision;
      expect(hintRevision).toBeGreaterThan(goalRevision);
      await eventually(() => hints.length === 1, 10_000, 'the hint delivered');
      expect(hints[0]).toMatchObject({ service: 'web', region: 'us', revision: hintRevision, goal: { build: 'b2', deployment: 'd2' } });
      expect(goals.map((u) => u.goal?.build)).toEqual(['b1']);
      // Not a goal: watchers without a hint listener, every service's included, skip it quietly.
      await eventually(() => goalOnly.some((u) => u.service === 'web'), 10_000, 'the goal at the all-services watch');
      expect(goalOnly.filter((u) => u.service === 'web').map((u) => u.goal?.build)).toEqual(['b1']);
      expect(goalOnly.some((u) => u.service.includes('prefetch'))).toBe(false);
      expect(errors).toEqual([]);
      expect((await views.us!.get('web'))!.goal.build).toBe('b1');
      // A hint for another region never reaches this one.
      await writer.putPrefetch(sampleGoal('web', 'eu', 3));
      await writer.putPrefetch(sampleGoal('web', 'us', 4));
      await eventually(() => hints.at(-1)?.goal?.build === 'b4', 10_000, 'the newer hint');
      expect(hints.map((u) => u.goal?.build)).toEqual(['b2', 'b4']);
      // A restarted watch gets the goal first, then the hint.
      const order: string[] = [];
      const again = views.us!.watch(['web'], (u) => void order.push(`goal ${u.goal?.build}`), { onPrefetch: (u) => void order.push(`hint ${u.goal?.build}`) });
      await again.ready;
      await eventually(() => order.length === 2, 10_000, 'both replayed');
      expect(order).toEqual(['goal b1', 'hint b4']);
      await again.stop();
    } finally {
      await hintWatch.stop();
      await allServices.stop();
    }
  });

  it('level-triggered: a busy listener gets the latest goal next (never an older one), a deletion arrives as null', async () => {
    const delivered: (string | null)[] = [];
    let release!: () => void;
    const busy = new Promise<void>((resolve) => (release = resolve));
    const watch = views.eu!.watch(['slow'], async (update) => {
      delivered.push(update.goal?.build ?? null);
      if (delivered.length === 1) await busy; // installing the first goal takes a while
    });
    try {
      await watch.ready;
      let revision = (await writer.put(sampleGoal('slow', 'eu', 1), { expectedRevision: null })).revision;
      await eventually(() => delivered.length === 1, 10_000, 'b1');
      for (const n of [2, 3, 4]) revision = (await writer.put(sampleGoal('slow', 'eu', n), { expectedRevision: revision })).revision;
      await eventually(async () => (await views.eu!.get('slow'))?.goal.build === 'b4', 10_000, 'b4 in the mirror');
      await eventually(() => watch.current('slow')?.goal?.build === 'b4', 10_000, 'b4 known to the watch');
      release();
      await eventually(() => delivered.at(-1) === 'b4', 10_000, 'b4 delivered');
      expect(delivered).toEqual(['b1', 'b4']);

      const raw = await cluster.rawKv(cluster.urls.hub, 'goal');
      await raw.delete('slow.eu');
      await eventually(() => delivered.at(-1) === null, 10_000, 'the deletion');
      expect(delivered).toEqual(['b1', 'b4', null]);
      expect(await views.eu!.get('slow')).toBeNull();
    } finally {
      await watch.stop();
    }
  });

  it('watches leave no consumer behind on the leaf: neither a stopped watch nor a restarted session', async () => {
    // The 3.x client asks the server to keep an ordered consumer 5 minutes without interest;
    // with one watch per agent, restarted on every reconnect, fleetcast deletes them itself.
    const admin = await cluster.rawManager(cluster.urls.leaves.eu!);
    const consumers = async () => (await admin.streams.info('KV_goal-eu')).state.consumer_count;
    const before = await consumers(); // the eu watch of this file's beforeAll
    const watch = views.eu!.watch(['api'], () => undefined);
    await watch.ready;
    expect(await consumers()).toBe(before + 1);
    await watch.stop();
    expect(await consumers()).toBe(before);

    // A session restarted (as on every reconnect) releases the previous one's consumer, with
    // the agent credentials' CONSUMER.DELETE on the mirror.
    const nc = await cluster.rawConnect(cluster.urls.agents.eu!);
    const kv = await new Kvm(jetstream(nc)).open('goal', { streamName: 'KV_goal-eu', allow_direct: true });
    let sessions = 0;
    const resilient = new ResilientWatch({ nc, kv, key: 'api.eu', what: 'test watch', server: 'the eu leaf', logger: silentLogger(), onEntry: () => undefined, onCaughtUp: () => void sessions++ });
    resilient.start();
    try {
      for (let restart = 1; restart <= 3; restart++) {
        await eventually(() => sessions === restart, 10_000, `session ${restart}`);
        resilient.restart();
      }
      await eventually(() => sessions === 4, 10_000, 'session 4');
      await eventually(async () => (await consumers()) === before + 1, 3_000, 'one consumer: the current session');
    } finally {
      await resilient.stop();
    }
    expect(await consumers()).toBe(before);
  });
});
