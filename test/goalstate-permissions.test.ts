// Regions cannot write the global goal state, and agent credentials can only read their
// region's mirror and write their region's status bucket. Plain nats clients (@nats-io/*, no
// fleetcast code) try what an attacker or a misconfigured region would; the configs under test
// are ops/nats/*.template. Refusals are named by goalstate's natsFailureKind, so the real errors
// of the client are what its classification is checked against.
import fs from 'node:fs';
import path from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoalWriter, RegionGoalView, StatusReporter, type NatsConnection } from '../goalstate/index.ts';
import { natsFailure, natsFailureKind } from '../goalstate/nats-failure.ts';
import { eventually } from './support/eventually.ts';
import { sampleGoal } from './support/sample-goal.ts';
import { testGoalKeys } from './support/goal-keys.ts';

const keys = testGoalKeys();
import { freePort } from '../ops/nats/free-port.ts';
import { NatsServerProcess } from '../ops/nats/nats-server-process.ts';
import { renderLeafConfig } from '../ops/nats/render-config.ts';
import { renderLeafUsers } from '../ops/nats/users-config.ts';
import { TestNatsCluster } from './support/nats-cluster.ts';

const regions = ['eu', 'us'];
const connect = { maxReconnectDelayMs: 300, timeoutMs: 2_000 };
let cluster: TestNatsCluster;
let writer: GoalWriter;
let revision: number;

beforeAll(async () => {
  cluster = await TestNatsCluster.start(regions);
  writer = await GoalWriter.connect({ url: cluster.urls.hub, regions, connect, signingKey: keys.signingKey, keyring: keys.keyring });
  await writer.ensureBuckets();
  revision = (await writer.put(sampleGoal('api', 'eu', 42), { expectedRevision: null })).revision;
  const view = await RegionGoalView.connect({ url: cluster.urls.agents.eu!, region: 'eu', keyring: keys.keyring, connect });
  await eventually(async () => (await view.get('api'))?.goal.build === 'b42', 10_000, 'b42 in eu');
  await view.close();
});

afterAll(async () => {
  keys.remove();
  await writer?.close();
  await cluster?.stop();
});

/** The outcome of a JetStream publish or API request: 'ok', an API error, or the failure's kind. */
async function attempt(nc: NatsConnection, subject: string, payload = '{}'): Promise<string> {
  try {
    const reply = await nc.request(subject, new TextEncoder().encode(payload), { timeout: 1_500 });
    const body = reply.json<{ error?: { code: number; description: string } }>();
    return body.error ? `api error ${body.error.code}` : 'ok';
  } catch (err) {
    return natsFailureKind(err);
  }
}

/** Neither delivered nor refused by name: dropped on the leaf link (no responders) or in flight (no answer). */
const dropped = /^(no-responders|timeout)$/;

async function expectGoalUntouched(): Promise<void> {
  const current = (await writer.get('api', 'eu'))!;
  expect(current.revision).toBe(revision);
  expect(current.goal.build).toBe('b42');
}

describe('a region cannot write the global goal bucket', () => {
  it('not through its mirror (the trap: a KV put on goal-<region> is sent to the hub as $JS.hub.API.$KV.goal.…)', async () => {
    const admin = await cluster.rawConnect(cluster.urls.leaves.eu!);
    // Opened the naive way, the mirror's KV handle forwards writes to its source.
    const mirror = await new Kvm(jetstream(admin, { timeout: 1_500 })).create('goal-eu');
    const err: unknown = await mirror.put('api.eu', JSON.stringify(sampleGoal('api', 'eu', 666))).catch((e: unknown) => e);
    expect(natsFailureKind(err)).toMatch(dropped);
    // What fleetcast makes of it: the server did not answer, not a bug.
    expect(natsFailure(err, { action: 'writing', server: 'the leaf', startHint: '' }).code).toBe('NATS_UNAVAILABLE');
    await expectGoalUntouched();
  });

  it('not with raw subjects, nor through the hub\'s stream API (purge, delete, update)', async () => {
    const admin = await cluster.rawConnect(cluster.urls.leaves.eu!);
    for (const subject of [
      '$KV.goal.api.eu',
      '$JS.hub.API.$KV.goal.api.eu',
      '$JS.hub.API.STREAM.PURGE.KV_goal',
      '$JS.hub.API.STREAM.DELETE.KV_goal',
      '$JS.hub.API.STREAM.UPDATE.KV_goal',
      '$JS.hub.API.STREAM.MSG.DELETE.KV_goal',
      '$JS.hub.API.CONSUMER.DELETE.KV_goal.x',
    ]) {
      expect(await attempt(admin, subject), subject).toMatch(dropped);
    }
    await expectGoalUntouched();
    expect((await writer.history('api', 'eu')).map((h) => h.goal.build)).toEqual(['b42']);
  });

  it('the hub enforces it: a leaf configured without its deny_exports is still refused', async () => {
    // A rogue leaf (its own domain, the leaf-link credentials, no deny list of its own).
    const dir = path.join(cluster.dir, 'rogue');
    fs.mkdirSync(dir);
    const clientPort = await freePort();
    const monitorPort = await freePort();
    const config = renderLeafConfig({
      region: 'rogue',
      clientPort,
      monitorPort,
      storeDir: path.join(dir, 'store'),
      hubLeafUrl: cluster.urls.hubLeafnodes,
      usersFile: 'users.conf',
    }).replace(/^\s*deny_exports:.*$/m, '');
    expect(config).not.toContain('deny_exports');
    fs.writeFileSync(path.join(dir, 'leaf.conf'), config);
    fs.writeFileSync(path.join(dir, 'users.conf'), renderLeafUsers({ region: 'rogue', adminPassword: 'rogue-admin', identities: [] }));
    const rogue = new NatsServerProcess({ name: 'leaf-rogue', configFile: path.join(dir, 'leaf.conf'), logFile: path.join(dir, 'leaf.log'), monitorUrl: `http://127.0.0.1:${monitorPort}` });
    await rogue.start();
    try {
      await rogue.waitFor('/leafz', async (res) => ((await res.json()) as { leafnodes?: number }).leafnodes === 1, 10_000, 'the rogue leaf to link');
      const nc = await cluster.rawConnect(`nats://admin:rogue-admin@127.0.0.1:${clientPort}`);
      const mirror = await new Kvm(jetstream(nc, { timeout: 1_500 })).create('goal-rogue', { mirror: { name: 'goal', domain: 'hub' } });
      // Reading through the link works (the mirror fills) …
      await eventually(async () => (await mirror.status()).values > 0, 10_000, 'the rogue mirror to fill');
      // … writing does not.
      const err: unknown = await mirror.put('api.eu', '{}').catch((e: unknown) => e);
      expect(natsFailureKind(err)).toMatch(dropped);
      for (const subject of ['$JS.hub.API.$KV.goal.api.eu', '$JS.hub.API.STREAM.DELETE.KV_goal', '$JS.hub.API.STREAM.PURGE.KV_goal', '$JS.eu.API.STREAM.DELETE.KV_goal-eu']) {
        expect(await attempt(nc, subject), subject).toMatch(dropped);
      }
      await expectGoalUntouched();
    } finally {
      await rogue.stop();
    }
  });

  it('the leaf-link credentials used as a client on the hub are refused too', async () => {
    const link = await cluster.rawConnect(cluster.urls.leafLink);
    expect(await attempt(link, '$KV.goal.api.eu')).toBe('permission-denied');
    expect(await attempt(link, '$JS.API.STREAM.DELETE.KV_goal')).toBe('permission-denied');
    // What fleetcast makes of such a refusal (3.x wraps it in a RequestError): FORBIDDEN, naming the subject.
    const refused: unknown = await link.request('$KV.goal.api.eu', '{}', { timeout: 1_500 }).catch((e: unknown) => e);
    const forbidden = natsFailure(refused, { action: 'writing goal api.eu', server: 'the hub', startHint: '' });
    expect(forbidden.code).toBe('FORBIDDEN');
    expect(forbidden.message).toContain('Permissions Violation for Publish to "$KV.goal.api.eu"');
    await expectGoalUntouched();
  });
});

describe('agent credentials', () => {
  it('read the region\'s goal mirror and write the region\'s status bucket', async () => {
    const view = await RegionGoalView.connect({ url: cluster.urls.agents.eu!, region: 'eu', keyring: keys.keyring, connect });
    const reporter = await StatusReporter.connect({ url: cluster.urls.agents.eu!, region: 'eu', machine: 'm1', connect });
    try {
      expect((await view.get('api'))!.goal.build).toBe('b42');
      const watch = view.watch(['api'], () => undefined);
      await watch.ready;
      expect(watch.current('api')?.goal?.build).toBe('b42');
      expect((await view.mirrorHealth()).lastRevision).toBeGreaterThanOrEqual(revision);
      expect(await reporter.report('api', { build: 'b42', state: 'running' })).toBe(true);
    } finally {
      await reporter.close();
      await view.close();
    }
  });

  it('can do nothing else: no goal writes, no stream or consumer management, no other bucket', async () => {
    const agent = await cluster.rawConnect(cluster.urls.agents.eu!);
    for (const subject of [
      '$KV.goal.api.eu',
      '$JS.hub.API.$KV.goal.api.eu',
      '$JS.API.STREAM.PURGE.KV_goal-eu',
      '$JS.API.STREAM.DELETE.KV_goal-eu',
      '$JS.API.STREAM.CREATE.KV_goal',
      '$JS.API.STREAM.DELETE.KV_status-eu',
      '$JS.API.STREAM.PURGE.KV_status-eu',
      // Other machines' reports are the coordinator's to read.
      '$JS.API.CONSUMER.CREATE.KV_status-eu',
      '$JS.API.DIRECT.GET.KV_status-eu',
      '$KV.other-bucket.x',
    ]) {
      expect(await attempt(agent, subject), subject).toBe('permission-denied');
    }
    // The leaf maps its own domain's prefix to $JS.API before checking permissions, so the
    // refusal names $JS.API.… and the client cannot match it to the request: it times out.
    expect(await attempt(agent, '$JS.eu.API.STREAM.DELETE.KV_goal-eu')).toMatch(/^(permission-denied|timeout)$/);
    const admin = await cluster.rawManager(cluster.urls.leaves.eu!);
    expect((await admin.streams.info('KV_goal-eu')).state.messages).toBeGreaterThan(0);
    expect((await admin.streams.info('KV_status-eu')).config.name).toBe('KV_status-eu');
    await expectGoalUntouched();
  });
});
