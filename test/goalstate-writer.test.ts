// The coordinator's GoalWriter against a real hub and leaves: signed documents with growing
// sequences (also over a lost bucket and a forged current value), compare-and-set, history,
// delete markers, malformed and unsigned values, and the errors a person sees when something is
// wrong.
import type { KV } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetcastError, isFleetcastError } from '../errors/index.ts';
import { GoalWriter, RegionGoalView, type GoalUpdate } from '../goalstate/index.ts';
import { eventually } from './support/eventually.ts';
import { sampleGoal } from './support/sample-goal.ts';
import { testGoalKeys } from './support/goal-keys.ts';
import { freePort } from '../ops/nats/free-port.ts';
import { TestNatsCluster } from './support/nats-cluster.ts';

const regions = ['eu', 'us'];
const connect = { maxReconnectDelayMs: 300, timeoutMs: 2_000 };
let cluster: TestNatsCluster;
let writer: GoalWriter;
let rawGoal: KV;
const keys = testGoalKeys();
const signing = { signingKey: keys.signingKey, keyring: keys.keyring };

beforeAll(async () => {
  cluster = await TestNatsCluster.start(regions);
  writer = await GoalWriter.connect({ url: cluster.urls.hub, regions, connect, ...signing });
  await writer.ensureBuckets();
  rawGoal = await cluster.rawKv(cluster.urls.hub, 'goal');
});

afterAll(async () => {
  keys.remove();
  await writer?.close();
  await cluster?.stop();
});

async function failure(promise: Promise<unknown>): Promise<FleetcastError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof FleetcastError)) throw new Error(`expected a FleetcastError, got ${String(err)}`);
  return err;
}

describe('GoalWriter', () => {
  it('ensureBuckets is idempotent and sets up goal (history 20) on the hub and goal-/status- in every region', async () => {
    await writer.ensureBuckets();
    const hub = await cluster.rawManager(cluster.urls.hub);
    expect((await hub.streams.info('KV_goal')).config.max_msgs_per_subject).toBe(20);
    for (const region of regions) {
      const leaf = await cluster.rawManager(cluster.urls.leaves[region]!);
      const mirror = await leaf.streams.info(`KV_goal-${region}`);
      expect(mirror.config.mirror).toMatchObject({ name: 'KV_goal', external: { api: '$JS.hub.API' } });
      expect(mirror.config.max_msgs_per_subject).toBe(10);
      const status = await leaf.streams.info(`KV_status-${region}`);
      expect(status.config.max_msgs_per_subject).toBe(1);
      expect(status.config.max_age).toBeGreaterThan(0);
    }
  });

  it('put signs, creates, then updates only from the revision read; get returns the verified goal and revision', async () => {
    expect(await writer.get('shop', 'eu')).toBeNull();
    const before = Date.now();
    const first = await writer.put(sampleGoal('shop', 'eu', 1), { expectedRevision: null });
    const r1 = first.revision;
    expect(first.goal).toMatchObject({ v: 2, purpose: 'goal', build: 'b1', sig: { key: keys.key.keyId } });
    expect(first.goal.seq).toBeGreaterThanOrEqual(before);
    const read = await writer.get('shop', 'eu');
    expect(read).toMatchObject({ revision: r1, goal: { build: 'b1', deployment: 'd1', seq: first.goal.seq } });
    // What is stored is exactly the signed document.
    expect(JSON.parse(new TextDecoder().decode((await rawGoal.get('shop.eu'))!.value))).toEqual(first.goal);
    const second = await writer.put(sampleGoal('shop', 'eu', 2), { expectedRevision: r1 });
    const r2 = second.revision;
    expect(r2).toBeGreaterThan(r1);
    expect(second.goal.seq).toBeGreaterThan(first.goal.seq);

    const stale = await failure(writer.put(sampleGoal('shop', 'eu', 3), { expectedRevision: r1 }));
    expect(stale.code).toBe('GOAL_CONFLICT');
    expect(stale.message).toContain('b2 (deploy d2 by alice');
    expect(stale.details).toMatchObject({ key: 'shop.eu', expectedRevision: r1, currentRevision: r2 });
    const exists = await failure(writer.put(sampleGoal('shop', 'eu', 3), { expectedRevision: null }));
    expect(exists.code).toBe('GOAL_CONFLICT');
  });

  it('concurrent compare-and-set writes to one key: exactly one wins, the others get GOAL_CONFLICT', async () => {
    const base = (await writer.put(sampleGoal('race', 'eu', 1), { expectedRevision: null })).revision;
    const writers = await Promise.all(Array.from({ length: 8 }, () => GoalWriter.connect({ url: cluster.urls.hub, regions, connect, ...signing })));
    try {
      const results = await Promise.allSettled(writers.map((w, i) => w.put(sampleGoal('race', 'eu', 100 + i), { expectedRevision: base })));
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(7);
      for (const r of lost) expect(isFleetcastError(r.reason, 'GOAL_CONFLICT')).toBe(true);
      const winner = (await writer.get('race', 'eu'))!;
      expect(winner.revision).toBe((won[0] as PromiseFulfilledResult<{ revision: number }>).value.revision);
      expect((lost[0]!.reason as FleetcastError).details.currentRevision).toBe(winner.revision);
    } finally {
      await Promise.all(writers.map((w) => w.close()));
    }
  });

  it('history gives the previous goals newest first, as far as the bucket keeps them', async () => {
    let revision: number | null = null;
    for (let n = 1; n <= 24; n++) revision = (await writer.put(sampleGoal('web', 'us', n, { kind: n === 24 ? 'rollback' : 'deploy' }), { expectedRevision: revision })).revision;
    const history = await writer.history('web', 'us');
    expect(history).toHaveLength(20);
    expect(history.map((h) => h.goal.build)).toEqual(Array.from({ length: 20 }, (_, i) => `b${24 - i}`));
    expect(history[0]!.goal.kind).toBe('rollback');
    expect(history.map((h) => h.revision)).toEqual([...history.map((h) => h.revision)].sort((a, b) => b - a));
    // Each write in a loop faster than the clock still got a higher sequence than the one before.
    const seqs = history.map((h) => h.goal.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(await writer.history('nothing-here', 'us')).toEqual([]);
  });

  it('a deleted or purged key reads as no goal, and a goal can be created over it', async () => {
    await writer.put(sampleGoal('gone', 'eu', 1), { expectedRevision: null });
    await rawGoal.delete('gone.eu');
    expect(await writer.get('gone', 'eu')).toBeNull();
    await writer.put(sampleGoal('gone', 'eu', 2), { expectedRevision: null });
    expect((await writer.get('gone', 'eu'))!.goal.build).toBe('b2');
    await rawGoal.purge('gone.eu');
    expect(await writer.get('gone', 'eu')).toBeNull();
    expect(await writer.history('gone', 'eu')).toEqual([]);
  });

  it('a goal over a forged current value, a purged key or a lost bucket still gets a sequence above every signed one', async () => {
    const first = await writer.put(sampleGoal('seq', 'eu', 1), { expectedRevision: null });
    // Someone with the hub's credentials writes a document with a huge sequence, unsigned.
    const forged = await rawGoal.put('seq.eu', new TextEncoder().encode(JSON.stringify({ ...first.goal, seq: Number.MAX_SAFE_INTEGER - 1, build: 'b666' })));
    expect((await failure(writer.get('seq', 'eu'))).code).toBe('GOAL_SIGNATURE_INVALID');
    // A fresh writer (no memory of what it wrote) takes the sequence from the verified history, not from the forgery.
    const fresh = await GoalWriter.connect({ url: cluster.urls.hub, regions, connect, ...signing });
    try {
      const second = await fresh.put(sampleGoal('seq', 'eu', 2), { expectedRevision: forged });
      expect(second.goal.seq).toBeGreaterThan(first.goal.seq);
      expect(second.goal.seq).toBeLessThan(Number.MAX_SAFE_INTEGER - 1);
      // The key's history gone (a purge, or the whole bucket lost): the clock floor keeps the sequence above.
      await rawGoal.purge('seq.eu');
      const third = await fresh.put(sampleGoal('seq', 'eu', 3), { expectedRevision: null });
      expect(third.goal.seq).toBeGreaterThan(second.goal.seq);
    } finally {
      await fresh.close();
    }
  });

  it('a coordinator without a signing key refuses to write, naming the setting; without keys it cannot verify', async () => {
    const unsigned = await GoalWriter.connect({ url: cluster.urls.hub, regions, connect });
    try {
      const err = await failure(unsigned.put(sampleGoal('nokey', 'eu', 1), { expectedRevision: null }));
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.message).toContain('FLEETCAST_GOAL_SIGNING_KEY is not set');
      expect(await unsigned.get('nokey', 'eu')).toBeNull();
      expect((await failure(unsigned.get('shop', 'eu'))).details.problem).toBe('NO_TRUSTED_KEYS');
    } finally {
      await unsigned.close();
    }
  });

  it('refuses an invalid goal and invalid names before writing', async () => {
    expect((await failure(writer.put(sampleGoal('api', 'eu', 1, { digest: 'abc' }), { expectedRevision: null }))).code).toBe('INVALID_INPUT');
    expect((await failure(writer.put(sampleGoal('Bad.Name', 'eu', 1), { expectedRevision: null }))).code).toBe('INVALID_INPUT');
    expect((await failure(writer.get('api', 'hub'))).code).toBe('INVALID_INPUT');
    const unknownRegion = await failure(writer.put(sampleGoal('api', 'mars', 1), { expectedRevision: null }));
    expect(unknownRegion.message).toContain('region mars is not one of the configured regions (eu, us)');
  });
});

describe('malformed and unsigned values written straight into the bucket', () => {
  it('are typed GOAL_INVALID / GOAL_SIGNATURE_INVALID errors for readers; the watcher reports them, keeps the last goal and goes on', async () => {
    const view = await RegionGoalView.connect({ url: cluster.urls.agents.eu!, region: 'eu', keyring: keys.keyring, connect });
    const updates: GoalUpdate[] = [];
    const errors: FleetcastError[] = [];
    const watch = view.watch(undefined, (u) => void updates.push(u), { onError: (e) => errors.push(e) });
    try {
      const r1 = (await writer.put(sampleGoal('pay', 'eu', 7), { expectedRevision: null })).revision;
      await watch.ready;
      await eventually(() => watch.current('pay')?.goal?.build === 'b7', 10_000, 'b7');

      // Each value written and its refusal seen before the next: refusals are delivered newest per service.
      const encode = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
      const refusedAfter = async (value: unknown) => {
        const seen = errors.length;
        const revision = await rawGoal.put('pay.eu', encode(value));
        await eventually(() => errors.length > seen, 10_000, `the refusal of revision ${revision}`);
        return revision;
      };
      await refusedAfter('{not json');
      await refusedAfter({ ...sampleGoal('pay', 'eu', 8), v: 4 });
      await refusedAfter({ v: 1, ...sampleGoal('pay', 'eu', 8) });
      await refusedAfter(keys.sign(sampleGoal('other', 'eu', 9), Date.now()));
      const last = await refusedAfter({ ...keys.sign(sampleGoal('pay', 'eu', 10), Date.now()), size: 1 });
      expect(errors.map((e) => e.code)).toEqual(['GOAL_INVALID', 'GOAL_INVALID', 'GOAL_SIGNATURE_INVALID', 'GOAL_SIGNATURE_INVALID', 'GOAL_SIGNATURE_INVALID']);
      expect(errors[0]!.message).toMatch(/goal pay\.eu at revision \d+ is malformed \(the value is not JSON\)/);
      expect(errors[1]!.message).toContain('unknown document version 4');
      expect(errors[2]!.message).toContain('unsigned version-1 document');
      expect(errors[3]!.message).toContain('signed as the goal other.eu');
      expect(errors[4]!.message).toContain('its signature does not match its content');
      for (const error of errors) expect(error.details).toMatchObject({ service: 'pay', region: 'eu', purpose: 'goal' });
      expect(watch.current('pay')?.goal?.build).toBe('b7');
      expect(updates.filter((u) => u.service === 'pay').map((u) => u.goal?.build)).toEqual(['b7']);

      // The mirror holds the forged value the watch reported.
      expect((await failure(view.get('pay'))).code).toBe('GOAL_SIGNATURE_INVALID');
      expect((await failure(writer.get('pay', 'eu'))).details.revision).toBe(last);
      // History skips what cannot be rolled back to.
      expect((await writer.history('pay', 'eu')).map((h) => h.goal.build)).toEqual(['b7']);
      // The coordinator overwrites it from its revision; the conflict message of a stale writer names it.
      expect((await failure(writer.put(sampleGoal('pay', 'eu', 11), { expectedRevision: r1 }))).message).toContain('malformed or unsigned value at revision');
      await writer.put(sampleGoal('pay', 'eu', 11), { expectedRevision: last });
      await eventually(() => watch.current('pay')?.goal?.build === 'b11', 10_000, 'b11 after the malformed values');
      expect(updates.filter((u) => u.service === 'pay').map((u) => u.goal?.build)).toEqual(['b7', 'b11']);
    } finally {
      await view.close();
    }
  });
});

describe('connection errors name the server and what to do', () => {
  it('an unreachable hub: NATS_UNAVAILABLE with the URL (password hidden) and how to start one', async () => {
    const port = await freePort();
    const err = await failure(GoalWriter.connect({ url: `nats://coordinator:secret@127.0.0.1:${port}`, regions, connect: { timeoutMs: 1_000 } }));
    expect(err.code).toBe('NATS_UNAVAILABLE');
    expect(err.message).toContain(`cannot reach the NATS hub at nats://coordinator:***@127.0.0.1:${port}`);
    expect(err.message).toContain('ops/nats/start-cluster.ts');
    expect(err.message).not.toContain('secret');
  });

  it('wrong credentials: CONFIG_INVALID naming the user', async () => {
    const url = new URL(cluster.urls.hub);
    url.password = 'wrong';
    const err = await failure(GoalWriter.connect({ url: url.toString(), regions, connect }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('refused the credentials of user coordinator');
  });

  it('a writer pointed at a leaf, or a view pointed at another region, is refused', async () => {
    const atLeaf = await failure(GoalWriter.connect({ url: cluster.urls.leaves.eu!, regions, connect, ...signing }));
    expect(atLeaf.code).toBe('CONFIG_INVALID');
    expect(atLeaf.message).toContain('JetStream domain "eu", not the hub');
    const wrongRegion = await failure(RegionGoalView.connect({ url: cluster.urls.agents.us!, region: 'eu', keyring: keys.keyring, connect }));
    expect(wrongRegion.code).toBe('CONFIG_INVALID');
    expect(wrongRegion.message).toContain('is JetStream domain "us", not "eu"');
  });

  it('ensureBuckets with a region\'s leaf down sets up the others and names the missing region', async () => {
    await cluster.stopLeaf('us');
    try {
      const err = await failure(writer.ensureBuckets());
      expect(err.code).toBe('NATS_UNAVAILABLE');
      expect(err.message).toContain('region us');
      expect(err.message).not.toContain('region eu');
    } finally {
      await cluster.startLeaf('us');
    }
  });
});
