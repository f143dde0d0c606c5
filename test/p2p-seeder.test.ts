// Regional seeders on real NATS leaves and a real swarm: identical cores from independent
// seeders, goals followed level-triggered, preheating, restart without a bucket read, damaged
// bucket objects, a wrong cluster secret, and the fleetcast seeder / dht commands as processes.
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import type { KV } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGoal, GoalWriter, signGoal, type GoalContent } from '../goalstate/index.ts';
import { generateSigningKey, signingKeyFromPem } from '../trust/index.ts';
import { eventually } from './support/eventually.ts';
import type { SeederHandle } from '../edge-agent/index.ts';
import { startCli } from './support/cli.ts';
import { TestNatsCluster } from './support/nats-cluster.ts';
import { P2PTestbed, sha256File } from './support/p2p.ts';

const MiB = 1 << 20;
let cluster: TestNatsCluster;
let writer: GoalWriter;
let rawGoal: KV;
let testbed: P2PTestbed;

beforeAll(async () => {
  cluster = await TestNatsCluster.start(['eu', 'us']);
  testbed = await P2PTestbed.start();
  writer = await GoalWriter.connect({ url: cluster.urls.hub, regions: ['eu', 'us'], signingKey: testbed.keys.signingKey, keyring: testbed.keys.keyring });
  await writer.ensureBuckets();
  rawGoal = await cluster.rawKv(cluster.urls.hub, 'goal');
});

afterAll(async () => {
  await testbed?.close();
  await writer?.close();
  await cluster?.stop();
});

/** Writes the goal as a deploy would: compare-and-set on the revision just read. */
async function deploy(goal: GoalContent): Promise<void> {
  const current = await writer.get(goal.service, goal.region);
  await writer.put(goal, { expectedRevision: current?.revision ?? null });
}

function seeding(handle: SeederHandle): Record<string, string> {
  return Object.fromEntries(handle.seeder.status().seeding.map((s) => [s.build, s.reason]));
}

function leaf(region: string): string {
  return cluster.urls.leaves[region]!;
}

describe('regional seeder', () => {
  it('two seeders of a region make the same signed core, each reading the bucket once, and share the machines between them', async () => {
    const artifact = await testbed.artifact('api', 'eu', 12 * MiB + 7);
    const env = { FLEETCAST_SEEDER_PREHEAT: '0', FLEETCAST_P2P_UPLOAD_LIMIT: '4M' };
    const [a, b] = await Promise.all([testbed.seeder('eu-1', 'eu', leaf('eu'), env), testbed.seeder('eu-2', 'eu', leaf('eu'), env)]);
    await deploy(artifact.goal);
    for (const seeder of [a, b]) await eventually(() => seeding(seeder)[artifact.goal.build] === 'goal', 20_000, 'both seeders seeding the goal');

    const coreA = a.cores.get(artifact.goal.p2pKey!)!;
    const coreB = b.cores.get(artifact.goal.p2pKey!)!;
    expect(coreA.key).toBe(coreB.key);
    // Deterministic signatures: the same bytes and key give the same signed tree, byte for byte.
    expect(coreA.tree!.encode().equals(coreB.tree!.encode())).toBe(true);
    expect(coreA.tree!.blocks).toBe(13);
    for (const seeder of [a, b]) expect(seeder.seeder.status().bucketBytesRead).toBe(artifact.size);

    const machines = await Promise.all(['m1', 'm2', 'm3'].map((name) => testbed.fetcher(`api-${name}`, 'eu')));
    const results = await Promise.all(machines.map((m, i) => m.fetch({ goal: artifact.goal, destination: testbed.destination(`api-m${i + 1}`, artifact.goal), signal: new AbortController().signal })));
    for (const [i, result] of results.entries()) {
      expect(result.sha256).toBe(artifact.sha256);
      expect(await sha256File(testbed.destination(`api-m${i + 1}`, artifact.goal))).toBe(artifact.sha256);
    }
    const egress = [a, b].map((s) => s.seeder.status().seeding[0]!.uploadedBytes);
    // The seeders say whom they served: peers counted per build.
    expect([a, b].reduce((sum, s) => sum + s.seeder.status().seeding[0]!.peers, 0)).toBeGreaterThanOrEqual(1);
    // Both seeders served; what they did not, the machines served each other.
    for (const bytes of egress) expect(bytes).toBeGreaterThan(0);
    const byMachines = (await Promise.all(machines.map((m) => m.status()))).flatMap((s) => s.serving).reduce((sum, s) => sum + s.uploadedBytes, 0);
    expect(egress[0]! + egress[1]! + byMachines).toBeGreaterThanOrEqual(3 * artifact.size);
    // The bucket was read once per seeder, not once per machine.
    for (const seeder of [a, b]) expect(seeder.seeder.status().bucketBytesRead).toBe(artifact.size);
    await a.stop();
    await b.stop();
  });

  it('seeds the build its region prefetches for a later wave, and lets it go once a newer goal ends the hint', async () => {
    const [b1, b2, b3] = [await testbed.artifact('hinted', 'eu', MiB), await testbed.artifact('hinted', 'eu', MiB + 3), await testbed.artifact('hinted', 'eu', MiB + 5)];
    // In eu, where every seeder of these tests has preheat off: these builds stay out of the way.
    const seeder = await testbed.seeder('eu-hinted', 'eu', leaf('eu'), { FLEETCAST_SEEDER_PREHEAT: '0' });
    try {
      await deploy(b1.goal);
      await eventually(() => seeding(seeder)[b1.goal.build] === 'goal', 20_000, 'b1 seeded');
      await writer.putPrefetch(b2.goal);
      await eventually(() => seeding(seeder)[b2.goal.build] === 'prefetch', 20_000, 'b2 seeded for the prefetch');
      expect(seeding(seeder)[b1.goal.build]).toBe('goal');
      await deploy(b3.goal);
      await eventually(() => seeding(seeder)[b3.goal.build] === 'goal' && seeding(seeder)[b1.goal.build] === 'previous-goal' && !(b2.goal.build in seeding(seeder)), 20_000, 'b3 seeded, b1 kept, b2 dropped');
    } finally {
      await seeder.stop();
      // The tests after this one count what a seeder of the region seeds: leave no goal of this service there.
      await rawGoal.delete('hinted.eu');
      await rawGoal.delete('hinted_prefetch.eu');
    }
  });

  it('follows the goal: seeds the new build, keeps the previous one for a rollback, drops older ones and a service that left', async () => {
    const [b1, b2, b3] = [await testbed.artifact('shop', 'eu', 2 * MiB), await testbed.artifact('shop', 'eu', 2 * MiB + 1), await testbed.artifact('shop', 'eu', 3 * MiB)];
    const seeder = await testbed.seeder('eu-follow', 'eu', leaf('eu'), { FLEETCAST_SEEDER_PREHEAT: '0' });
    await deploy(b1.goal);
    await eventually(() => seeding(seeder)[b1.goal.build] === 'goal', 20_000, 'b1 seeded');
    await deploy(b2.goal);
    await eventually(() => seeding(seeder)[b2.goal.build] === 'goal' && seeding(seeder)[b1.goal.build] === 'previous-goal', 20_000, 'b2 seeded, b1 kept');
    await deploy(b3.goal);
    await eventually(() => seeding(seeder)[b3.goal.build] === 'goal' && seeding(seeder)[b2.goal.build] === 'previous-goal' && !(b1.goal.build in seeding(seeder)), 20_000, 'b3 seeded, b2 kept, b1 dropped');
    await eventually(() => !fs.existsSync(path.join(seeder.dir, b1.goal.p2pKey!)), 10_000, 'b1 core deleted');
    // (Other services' goals of the region, from the tests before, are seeded too.)
    const shopCores = () => fs.readdirSync(seeder.dir).filter((key) => [b1, b2, b3].some((b) => b.goal.p2pKey === key));
    expect(shopCores().sort()).toEqual([b2.goal.p2pKey, b3.goal.p2pKey].sort());

    await rawGoal.delete('shop.eu');
    const shopBuilds = [b1, b2, b3].map((b) => b.goal.build);
    await eventually(() => !shopBuilds.some((b) => b in seeding(seeder)) && shopCores().length === 0, 20_000, 'everything of shop dropped');
    await seeder.stop();
  });

  it('preheats the newest builds in the bucket before any goal, and a restarted seeder serves them without reading the bucket', async () => {
    const builds = [await testbed.artifact('web', 'us', MiB), await testbed.artifact('web', 'us', MiB + 5), await testbed.artifact('web', 'us', MiB + 9)];
    const env = { FLEETCAST_SEEDER_PREHEAT: '2' };
    let seeder = await testbed.seeder('us-pre', 'us', leaf('us'), env);
    const newest = [builds[2]!.goal.build, builds[1]!.goal.build];
    await eventually(() => newest.every((b) => seeding(seeder)[b] === 'preheat'), 20_000, 'the two newest web builds preheated');
    expect(seeding(seeder)).not.toHaveProperty(builds[0]!.goal.build);
    expect(seeder.seeder.status().bucketBytesRead).toBe(builds[1]!.size + builds[2]!.size);
    await seeder.stop();

    seeder = await testbed.seeder('us-pre', 'us', leaf('us'), env);
    await eventually(() => newest.every((b) => seeding(seeder)[b] === 'preheat'), 20_000, 'preheated builds served again after restart');
    expect(seeder.seeder.status().bucketBytesRead).toBe(0);
    // A machine fetches a preheated build before it is ever deployed.
    const fetcher = await testbed.fetcher('us-early', 'us');
    const result = await fetcher.fetch({ goal: builds[2]!.goal, destination: testbed.destination('us-early', builds[2]!.goal), signal: new AbortController().signal });
    expect(result.sha256).toBe(builds[2]!.sha256);
    await seeder.stop();
  });

  it('never makes a core of a damaged bucket object: DIGEST_MISMATCH in its status, and seeds once the object is repaired', async () => {
    const artifact = await testbed.artifact('pay', 'us', 3 * MiB);
    const object = path.join(testbed.bucketsDir, 'fleetcast-us', ...artifact.goal.artifact.split('/'));
    const fd = fs.openSync(object, 'r+');
    fs.writeSync(fd, Buffer.from('rotten'), 0, 6, 2 * MiB);
    fs.closeSync(fd);
    const seeder = await testbed.seeder('us-damaged', 'us', leaf('us'), { FLEETCAST_SEEDER_PREHEAT: '0' });
    await deploy(artifact.goal);
    const failed = await eventually(() => seeder.seeder.status().failed.find((f) => f.build === artifact.goal.build), 20_000, 'the damaged object reported');
    expect(failed.code).toBe('DIGEST_MISMATCH');
    expect(failed.message).toContain(`the copy of build ${artifact.goal.build} (pay) in bucket fleetcast-us at ${artifact.goal.artifact} is damaged`);
    expect(failed.message).toContain('No core was made from it');
    expect(fs.existsSync(path.join(seeder.dir, artifact.goal.p2pKey!))).toBe(false);
    expect(seeding(seeder)).toEqual({});

    // The auditor copies the object again; the seeder's next try serves it.
    fs.copyFileSync(artifact.file, object);
    await eventually(() => seeding(seeder)[artifact.goal.build] === 'goal', 30_000, 'the repaired build seeded');
    expect(seeder.seeder.status().failed).toEqual([]);
    await seeder.stop();
  });

  it('seeds nothing the coordinator did not sign: an unsigned goal and a hint signed by another key are refused', async () => {
    const [goalBuild, hintBuild] = [await testbed.artifact('forged', 'eu', MiB), await testbed.artifact('forged', 'eu', MiB + 1)];
    const seeder = await testbed.seeder('eu-forged', 'eu', leaf('eu'), { FLEETCAST_SEEDER_PREHEAT: '0' });
    try {
      const stranger = signingKeyFromPem(generateSigningKey().privatePem);
      await rawGoal.put('forged.eu', new TextEncoder().encode(JSON.stringify({ v: 2, purpose: 'goal', ...goalBuild.goal, seq: Date.now() })));
      await rawGoal.put('forged_prefetch.eu', encodeGoal(signGoal(hintBuild.goal, 'prefetch', Date.now(), stranger)));
      await eventually(() => (seeder.seeder.status().refused.GOAL_SIGNATURE_INVALID ?? 0) >= 2, 20_000, 'both documents refused');
      await seeder.seeder.settled;
      expect(seeding(seeder)).not.toHaveProperty(goalBuild.goal.build);
      for (const build of [goalBuild, hintBuild]) expect(fs.existsSync(path.join(seeder.dir, build.goal.p2pKey!))).toBe(false);
    } finally {
      await seeder.stop();
      await rawGoal.delete('forged.eu');
      await rawGoal.delete('forged_prefetch.eu');
    }
  });

  it('a seeder with another cluster secret refuses the goal and says which setting to fix', async () => {
    const artifact = await testbed.artifact('auth', 'eu', MiB);
    const seeder = await testbed.seeder('eu-wrong', 'eu', leaf('eu'), { FLEETCAST_SEEDER_PREHEAT: '0', FLEETCAST_SECRET: 'w'.repeat(64) });
    await deploy(artifact.goal);
    const failed = await eventually(() => seeder.seeder.status().failed.find((f) => f.build === artifact.goal.build), 20_000, 'the refusal reported');
    expect(failed).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(failed.message).toMatch(/this seeder's cluster secret gives .*FLEETCAST_SECRET/);
    expect(fs.existsSync(path.join(seeder.dir, artifact.goal.p2pKey!))).toBe(false);
    await seeder.stop();
  });
});

describe('fleetcast seeder and fleetcast dht as processes', () => {
  it('a machine fetches the goal build through a seeder process found over a DHT process; SIGTERM stops both cleanly', async () => {
    const port = await freeUdpPort();
    const dht = startCli(['dht', '--listen', `127.0.0.1:${port}`], {});
    const artifact = await testbed.artifact('cli', 'eu', 5 * MiB);
    const seeder = startCli(['seeder', '--region', 'eu', '--dht-bootstrap', `127.0.0.1:${port}`, '--seeder-preheat', '0'], {
      ...testbed.seederEnv('eu-cli', 'eu', leaf('eu')),
      FLEETCAST_DHT_BOOTSTRAP: 'ignored:1',
    });
    try {
      await deploy(artifact.goal);
      const fetcher = await testbed.fetcher('cli-machine', 'eu', { bootstrap: [{ host: '127.0.0.1', port }], noDataTimeoutMs: 20_000 });
      const destination = testbed.destination('cli-machine', artifact.goal);
      const result = await fetcher.fetch({ goal: artifact.goal, destination, signal: new AbortController().signal });
      expect(result).toMatchObject({ sha256: artifact.sha256, bytesFromPeers: artifact.size });
      await fetcher.close();
      // The seeder first: it withdraws its announcements from the DHT as it stops.
      seeder.kill('SIGTERM');
      expect(await seeder.done).toMatchObject({ code: 0 });
      dht.kill('SIGTERM');
      expect(await dht.done).toMatchObject({ code: 0 });
    } finally {
      seeder.kill();
      dht.kill();
    }
  });

  it('a seeder without trusted goal keys does not start, naming the setting', async () => {
    const env: Record<string, string> = { ...testbed.seederEnv('eu-nokeys', 'eu', leaf('eu')) };
    delete env.FLEETCAST_GOAL_PUBLIC_KEYS;
    const run = await startCli(['seeder', '--region', 'eu'], env).done;
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('FLEETCAST_GOAL_PUBLIC_KEYS is not set: a seeder applies only goals the coordinator signed');
  });

  it('a seeder with a bad region or setting stops at start naming the variable', async () => {
    const run = await startCli(['seeder', '--region', 'EU!', '--p2p-upload-limit', 'fast', '--dht-bootstrap', 'nohost'], {}).done;
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('FLEETCAST_REGION (--region): a region name');
    expect(run.stderr).toContain('FLEETCAST_P2P_UPLOAD_LIMIT (--p2p-upload-limit): must be a size such as 512M');
    expect(run.stderr).toContain('FLEETCAST_DHT_BOOTSTRAP (--dht-bootstrap): each node must be host:port');
  });
});

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}
