// Per-machine NATS identities (issue 17): a real hub and leaves whose users are rendered from a
// `fleetcast creds` registry. What each identity may do is enforced by the NATS servers
// themselves: plain clients (@nats-io/*) try what a stolen creds file would, and the refusal
// must come from the server (a permissions violation), not from fleetcast code.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNats, GoalWriter, RegionGoalView, StatusReporter, type NatsConnection } from '../goalstate/index.ts';
import { natsFailureKind } from '../goalstate/nats-failure.ts';
import { NatsIdentityRegistry } from '../trust/index.ts';
import { eventually } from './support/eventually.ts';
import { testGoalKeys } from './support/goal-keys.ts';
import { TestNatsCluster } from './support/nats-cluster.ts';
import { sampleGoal } from './support/sample-goal.ts';

const keys = testGoalKeys();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-nats-identities-'));
const registry = new NatsIdentityRegistry(dir);
const connect = { maxReconnectDelayMs: 300, timeoutMs: 2_000 };
const creds = {
  coordinator: registry.issue({ role: 'coordinator' }).credsFile,
  seeder: registry.issue({ role: 'seeder', region: 'eu', machine: 'seeder-eu-1' }).credsFile,
  eu1: registry.issue({ role: 'agent', region: 'eu', machine: 'eu-1' }).credsFile,
  eu2: registry.issue({ role: 'agent', region: 'eu', machine: 'eu-2' }).credsFile,
  eu3: registry.issue({ role: 'agent', region: 'eu', machine: 'eu-3' }).credsFile,
  us1: registry.issue({ role: 'agent', region: 'us', machine: 'us-1' }).credsFile,
};
let cluster: TestNatsCluster;
let writer: GoalWriter;

beforeAll(async () => {
  cluster = await TestNatsCluster.start(['eu', 'us'], { identities: registry });
  writer = await GoalWriter.connect({ url: cluster.urls.hub, regions: ['eu', 'us'], connect: { ...connect, credsFile: creds.coordinator }, signingKey: keys.signingKey, keyring: keys.keyring });
  await writer.ensureBuckets();
  await writer.put(sampleGoal('api', 'eu', 1), { expectedRevision: null });
});

afterAll(async () => {
  await writer?.close();
  await cluster?.stop();
  keys.remove();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The outcome of a publish that expects an answer: 'ok', an API error, or the failure's kind. */
async function attempt(nc: NatsConnection, subject: string, payload = '{}'): Promise<string> {
  try {
    const reply = await nc.request(subject, new TextEncoder().encode(payload), { timeout: 1_500 });
    const body = reply.json<{ error?: { code: number } }>();
    return body.error ? `api error ${body.error.code}` : 'ok';
  } catch (err) {
    return natsFailureKind(err);
  }
}

describe('what each identity may do, as the NATS servers enforce it', () => {
  it('an agent reads its region goal and writes its own status through fleetcast', async () => {
    const view = await RegionGoalView.connect({ url: cluster.urls.agents.eu!, region: 'eu', keyring: keys.keyring, connect: { ...connect, credsFile: creds.eu1 } });
    const reporter = await StatusReporter.connect({ url: cluster.urls.agents.eu!, region: 'eu', machine: 'eu-1', connect: { ...connect, credsFile: creds.eu1 } });
    try {
      await eventually(async () => (await view.get('api'))?.goal.build === 'b1', 10_000, 'b1 in eu');
      expect(await reporter.report('api', { build: 'b1', state: 'running' })).toBe(true);
    } finally {
      await reporter.close();
      await view.close();
    }
  });

  it("an agent identity writing another machine's status is denied by the NATS server", async () => {
    const nc = await cluster.rawConnect(cluster.urls.agents.eu!, { credsFile: creds.eu1 });
    const status = await new Kvm(jetstream(nc, { timeout: 1_500 })).open('status-eu');
    await status.put('api.eu-1', '{}'); // its own key: allowed
    const forged: unknown = await status.put('api.eu-2', '{}').catch((e: unknown) => e);
    expect(natsFailureKind(forged)).toBe('permission-denied');
    expect(String((forged as Error).cause ?? forged)).toContain('Permissions Violation for Publish to "$KV.status-eu.api.eu-2"');
    // Nor phantom machines, nor the stream or the goal mirror.
    for (const subject of ['$KV.status-eu.api.phantom-1', '$KV.status-eu.api.>', '$JS.API.STREAM.PURGE.KV_status-eu', '$JS.API.STREAM.DELETE.KV_goal-eu', '$KV.goal-eu.api.eu', '$JS.hub.API.$KV.goal.api.eu']) {
      expect(await attempt(nc, subject), subject).toBe('permission-denied');
    }
    const admin = await new Kvm(jetstream(await cluster.rawConnect(cluster.urls.leaves.eu!))).open('status-eu');
    expect(await admin.get('api.eu-2')).toBeNull();
  });

  it('a seeder identity reads its region goal and cannot write goals or status', async () => {
    const view = await RegionGoalView.connect({ url: cluster.urls.agents.eu!, region: 'eu', keyring: keys.keyring, connect: { ...connect, credsFile: creds.seeder } });
    try {
      expect((await view.get('api'))?.goal.build).toBe('b1');
    } finally {
      await view.close();
    }
    const nc = await cluster.rawConnect(cluster.urls.agents.eu!, { credsFile: creds.seeder });
    for (const subject of ['$KV.goal-eu.api.eu', '$JS.hub.API.$KV.goal.api.eu', '$JS.API.STREAM.DELETE.KV_goal-eu', '$JS.API.STREAM.CREATE.KV_goal-eu', '$KV.status-eu.api.seeder-eu-1']) {
      expect(await attempt(nc, subject), subject).toBe('permission-denied');
    }
    expect((await writer.get('api', 'eu'))?.goal.build).toBe('b1');
  });

  it("an identity is refused by another region's leaf, and a client without one by every server", async () => {
    const refused = await connectNats({ url: cluster.urls.agents.us!, role: 'the NATS leaf of region us', credsFile: creds.eu1, ...connect }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('refused the NATS identity') });
    for (const url of [cluster.urls.hub, cluster.urls.agents.eu!]) {
      const anonymous = await connectNats({ url, role: 'a NATS server', ...connect }).catch((e: unknown) => e);
      expect(anonymous, url).toMatchObject({ code: 'CONFIG_INVALID' });
    }
    // An agent's key is not the coordinator's: the hub refuses it.
    const onHub = await connectNats({ url: cluster.urls.hub, role: 'the NATS hub', credsFile: creds.us1, ...connect }).catch((e: unknown) => e);
    expect(onHub).toMatchObject({ code: 'CONFIG_INVALID' });
  });
});

describe('revoking one machine', () => {
  it('closes that machine out and leaves every other connection alone', async () => {
    const revoked = await cluster.rawConnect(cluster.urls.agents.eu!, { credsFile: creds.eu3 });
    const other = await cluster.rawConnect(cluster.urls.agents.eu!, { credsFile: creds.eu2 });
    const otherEvents: string[] = [];
    void (async () => {
      for await (const status of other.status()) otherEvents.push(status.type);
    })();
    const otherStatus = await new Kvm(jetstream(other, { timeout: 1_500 })).open('status-eu');
    await otherStatus.put('api.eu-2', '{"before":true}');

    registry.revoke({ role: 'agent', region: 'eu', machine: 'eu-3' });
    await cluster.reloadUsers();

    // The revoked machine's open connection is closed by the server, and it cannot connect again.
    // (the server closes it; the client's reconnects are refused until it gives up)
    await eventually(async () => revoked.isClosed(), 10_000, "the server to close the revoked machine's connection");
    expect(await attempt(revoked, '$KV.status-eu.api.eu-3')).not.toBe('ok');
    const again = await connectNats({ url: cluster.urls.agents.eu!, role: 'the NATS leaf of region eu', credsFile: creds.eu3, ...connect }).catch((e: unknown) => e);
    expect(again).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('revoked') });
    // Its neighbour kept its connection (no disconnect, no reconnect) and still writes.
    expect((await otherStatus.put('api.eu-2', '{"after":true}')) > 0).toBe(true);
    expect(otherEvents.filter((type) => type === 'disconnect' || type === 'reconnect')).toEqual([]);
    expect(registry.active().map((identity) => identity.machine)).not.toContain('eu-3');
  });
});
