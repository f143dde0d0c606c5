// Only machines of the fleet join a region's swarm (issue 17, part C): a peer without a valid
// fleet identity — none at all, one from another CA, an expired one, another region's, or another
// machine's certificate shown with its own key — does not get a single block of a build, however
// well it knows the DHT and the build's key; an admitted machine next to it gets the build.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Hyperswarm from 'hyperswarm';
import HyperDHT from 'hyperdht';
import Hypercore from 'hypercore';
import fs from 'node:fs';
import path from 'node:path';
import type { FleetcastError } from '../errors/index.ts';
import { P2PTestbed, servingPeer, sha256File, strangerCa, type ServingPeer, type TestArtifact } from './support/p2p.ts';
import { regionTopic } from '../edge-agent/index.ts';
import type { FleetIdentity } from '../edge-agent/index.ts';

const MiB = 1 << 20;
let testbed: P2PTestbed;
let artifact: TestArtifact;
let seeder: ServingPeer;

beforeAll(async () => {
  testbed = await P2PTestbed.start();
  artifact = await testbed.artifact('api', 'eu', 3 * MiB);
  seeder = await servingPeer(testbed, 'seed', 'eu', artifact);
});

afterAll(async () => {
  await testbed?.close();
});

async function fetchAs(name: string, identity: FleetIdentity): Promise<FleetcastError> {
  const fetcher = await testbed.fetcher(name, 'eu', { identity, noDataTimeoutMs: 4_000 });
  const destination = testbed.destination(name, artifact.goal);
  const err = await fetcher.fetch({ goal: artifact.goal, destination, signal: new AbortController().signal }).then(
    () => undefined,
    (e: unknown) => e as FleetcastError,
  );
  if (!err) throw new Error(`${name} got the build without a fleet identity`);
  expect(fs.existsSync(destination) ? fs.statSync(destination).size : 0).toBe(0);
  return err;
}

describe('admitted peers only', () => {
  it('a Hypercore peer on the build topic without any fleet identity gets no block', async () => {
    // The attack of issue 17: the DHT address and the p2pKey are enough to replicate today's core.
    const dht = new HyperDHT({ bootstrap: testbed.dht.bootstrap, host: '127.0.0.1', firewalled: false });
    const swarm = new Hyperswarm({ dht });
    const dir = path.join(testbed.dir, 'intruder');
    const core = new Hypercore(dir, Hypercore.key(Buffer.from(artifact.goal.p2pKey!, 'hex')));
    await core.ready();
    let connections = 0;
    let closed = 0;
    swarm.on('connection', (connection) => {
      connections++;
      connection.on('close', () => closed++);
      connection.on('error', () => undefined);
      core.replicate(connection);
    });
    swarm.join(regionTopic(Buffer.from(artifact.goal.p2pKey!, 'hex'), 'eu'), { client: true, server: false });
    try {
      await swarm.flush();
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && closed === 0) await new Promise((r) => setTimeout(r, 100));
      expect(connections).toBeGreaterThan(0);
      // The seeder dropped it: nothing but the admission ever flowed.
      expect(closed).toBeGreaterThan(0);
      expect(core.contiguousLength).toBe(0);
      expect(seeder.uploadedBytes()).toBe(0);
      expect(seeder.swarm.rejectedPeers().some((r) => r.peer === swarm.keyPair.publicKey.toString('hex') && r.build === null)).toBe(true);
    } finally {
      await swarm.destroy();
      await core.close();
    }
  });

  it('identities the seeder must refuse: another CA, expired, another region, another machine\'s certificate', async () => {
    const foreign = await fetchAs('foreign', testbed.identity('agent', 'eu', 'foreign', { ca: strangerCa() }));
    expect(foreign.code).toBe('PEERS_UNAVAILABLE');
    const expired = await fetchAs('expired', testbed.identity('agent', 'eu', 'expired', { notAfter: new Date(Date.now() - 1_000) }));
    expect(expired.code).toBe('PEERS_UNAVAILABLE');
    const us = testbed.identity('agent', 'us', 'us-machine');
    await fetchAs('us-machine', us);
    // A real eu machine's certificate, shown with the thief's own key.
    const victim = testbed.identity('agent', 'eu', 'victim');
    const thief = testbed.identity('agent', 'eu', 'thief');
    await fetchAs('thief', { ...thief, certificate: victim.certificate });
    const codes = seeder.swarm.rejectedPeers().map((r) => r.code);
    expect(codes).toEqual(expect.arrayContaining(['IDENTITY_UNKNOWN_KEY', 'IDENTITY_EXPIRED', 'IDENTITY_OTHER_REGION', 'IDENTITY_NOT_ITS_KEY']));
    expect(seeder.uploadedBytes()).toBe(0);
  });

  it('an admitted machine of the region gets the build from the same seeder', async () => {
    const fetcher = await testbed.fetcher('member', 'eu');
    const destination = testbed.destination('member', artifact.goal);
    const result = await fetcher.fetch({ goal: artifact.goal, destination, signal: AbortSignal.timeout(30_000) });
    expect(result.sha256).toBe(artifact.sha256);
    expect(await sha256File(destination)).toBe(artifact.sha256);
    expect(seeder.uploadedBytes()).toBe(artifact.size);
  });
});
