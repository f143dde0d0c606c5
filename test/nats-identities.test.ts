// Per-machine NATS identities and TLS (issue 17): a real hub and leaves whose users are rendered
// from a `fleetcast creds` registry, TLS on every client port and mutual TLS on the leaf links (a
// local CA, as `fleetcast up` makes). What each identity may do is enforced by the NATS servers
// themselves: plain clients (@nats-io/*) try what a stolen creds file would, and the refusal
// must come from the server (a permissions violation), not from fleetcast code.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNats, GoalWriter, RegionGoalView, StatusReporter, type NatsConnection } from '../goalstate/index.ts';
import { natsFailureKind } from '../goalstate/nats-failure.ts';
import { freePort } from '../ops/nats/free-port.ts';
import { ensureLocalTls } from '../ops/nats/local-tls.ts';
import { NatsServerProcess } from '../ops/nats/nats-server-process.ts';
import { renderLeafConfig } from '../ops/nats/render-config.ts';
import { renderLeafUsers } from '../ops/nats/users-config.ts';
import { NatsIdentityRegistry, natsCredsPublicKey, privateInboxPrefix } from '../trust/index.ts';
import { eventually } from './support/eventually.ts';
import { testGoalKeys } from './support/goal-keys.ts';
import { TestNatsCluster } from './support/nats-cluster.ts';
import { sampleGoal } from './support/sample-goal.ts';

const keys = testGoalKeys();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-nats-identities-'));
const registry = new NatsIdentityRegistry(dir);
const tls = ensureLocalTls(path.join(dir, 'tls'));
const connect = { maxReconnectDelayMs: 300, timeoutMs: 2_000, caFile: tls.ca };
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
  cluster = await TestNatsCluster.start(['eu', 'us'], { identities: registry, tls });
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

  it("an agent or seeder identity cannot listen on another connection's inbox (replies, goal deliveries)", async () => {
    const ownInbox = (file: string) => privateInboxPrefix(natsCredsPublicKey(file));
    for (const file of [creds.eu1, creds.seeder]) {
      const nc = await cluster.rawConnect(cluster.urls.agents.eu!, { credsFile: file });
      const refused = async (subject: string) => {
        const sub = nc.subscribe(subject);
        return Promise.race([sub.closed, new Promise((resolve) => setTimeout(() => resolve('still open'), 3_000))]);
      };
      // Every inbox of the leaf, another machine's, a plain client's: refused by the server.
      for (const subject of ['_INBOX.>', `${ownInbox(creds.eu2)}.>`, '_INBOX.abc.*']) {
        const outcome = await refused(subject);
        expect(natsFailureKind(outcome), subject).toBe('permission-denied');
      }
      // Its own: allowed (what its requests and watches use).
      expect(await refused(`${ownInbox(file)}.x`)).toBe('still open');
    }
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

describe('TLS on every link', () => {
  it('the URLs are tls://, and a plaintext client is refused by the hub and by each leaf', async () => {
    for (const url of [cluster.urls.hub, cluster.urls.agents.eu!, cluster.urls.agents.us!]) {
      expect(url).toMatch(/^tls:\/\//);
      const { port } = new URL(url);
      // A client speaking the NATS protocol in the clear, with a valid identity's name even.
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(port), '127.0.0.1');
        let text = '';
        socket.on('data', (chunk) => {
          text += chunk.toString();
          if (text.startsWith('INFO ') && text.includes('\r\n') && !text.includes('CONNECT_SENT')) {
            text += 'CONNECT_SENT';
            socket.write('CONNECT {"verbose":false,"user":"admin","pass":"x"}\r\nPUB $KV.status-eu.api.eu-9 2\r\n{}\r\nPING\r\n');
          }
        });
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      expect(answer, url).toMatch(/"tls_required":true/);
      expect(answer, url).not.toContain('PONG');
    }
  });

  it('a leaf without a certificate of the fleet CA cannot link to the hub, even with the leaf-link password', async () => {
    const rogueDir = path.join(dir, 'rogue');
    fs.mkdirSync(rogueDir);
    const monitorPort = await freePort();
    fs.writeFileSync(path.join(rogueDir, 'users.conf'), renderLeafUsers({ region: 'rogue', adminPassword: 'rogue', identities: [] }));
    // TLS to the hub, but with a client certificate of another CA (and no certificate at all: the plaintext case is the same refusal).
    const other = ensureLocalTls(path.join(rogueDir, 'other-ca'));
    fs.writeFileSync(path.join(rogueDir, 'remote-tls.conf'), `tls ${JSON.stringify({ cert_file: other.leafCert, key_file: other.leafKey, ca_file: tls.ca })}\n`);
    const config = renderLeafConfig({ region: 'rogue', clientPort: await freePort(), monitorPort, storeDir: path.join(rogueDir, 'store'), hubLeafUrl: cluster.urls.hubLeafnodes, usersFile: 'users.conf', leafTlsFile: 'remote-tls.conf' });
    fs.writeFileSync(path.join(rogueDir, 'leaf.conf'), config);
    const rogue = new NatsServerProcess({ name: 'leaf-rogue', configFile: path.join(rogueDir, 'leaf.conf'), logFile: path.join(rogueDir, 'leaf.log'), monitorUrl: `http://127.0.0.1:${monitorPort}` });
    await rogue.start();
    try {
      // It tries (reconnect every second) and the hub closes each link at the TLS handshake.
      await eventually(() => (fs.readFileSync(path.join(rogueDir, 'leaf.log'), 'utf8').match(/Leafnode connection closed/g) ?? []).length >= 2, 15_000, 'the rogue leaf to be refused twice');
      expect(await rogue.leafConnections()).toBe(0);
      expect(fs.readFileSync(path.join(cluster.dir, 'hub.log'), 'utf8')).toMatch(/TLS.*handshake error.*certificate/i);
    } finally {
      await rogue.stop();
    }
  });

  it('a client that does not trust the fleet CA does not connect', async () => {
    const untrusting = await connectNats({ url: cluster.urls.agents.eu!, role: 'the NATS leaf of region eu', credsFile: creds.eu1, maxReconnectDelayMs: 300, timeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(untrusting).toMatchObject({ code: 'NATS_UNAVAILABLE' });
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
