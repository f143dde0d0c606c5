// The P2P fetcher against real Hyperswarm peers on a local DHT: machines fetching from a seeding
// peer and from each other, lying peers, retain(), abort and resume, full disks, kill -9.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FleetcastError } from '../errors/index.ts';
import type { FetchProgress } from '../edge-agent/index.ts';
import { coreBlockSize } from '../goalstate/index.ts';
import { ArtifactCore } from '../edge-agent/p2p/artifact-core.ts';
import { defaultWindow } from '../edge-agent/p2p/block-download.ts';
import { BlockSession } from '../edge-agent/p2p/block-session.ts';
import { P2PTestbed, servingPeer, sha256File } from './support/p2p.ts';
import { spawnTs, type JsonProcess } from './support/processes.ts';

const MiB = 1 << 20;
let testbed: P2PTestbed;

beforeAll(async () => {
  testbed = await P2PTestbed.start();
});

afterAll(async () => {
  await testbed?.close();
});

function never(): AbortSignal {
  return new AbortController().signal;
}

async function rejection(promise: Promise<unknown>): Promise<FleetcastError> {
  const outcome = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (outcome === undefined) throw new Error('expected the fetch to fail, it succeeded');
  return outcome as FleetcastError;
}

describe('P2PFetcher', () => {
  it('several machines fetch a multi-block build from a seeding peer and from each other, all with the same bytes', async () => {
    const artifact = await testbed.artifact('api', 'eu', 16 * MiB + 12_345);
    // The seeding peer's upload is capped: the machines must also serve each other.
    const seeder = await servingPeer(testbed, 'seed-a', 'eu', artifact, { uploadLimit: 4 * MiB });
    const machines = await Promise.all(['m1', 'm2', 'm3', 'm4'].map((name) => testbed.fetcher(name, 'eu')));
    const results = await Promise.all(
      machines.map((fetcher, i) => fetcher.fetch({ goal: artifact.goal, destination: testbed.destination(`m${i + 1}`, artifact.goal), signal: never() })),
    );
    for (const [i, result] of results.entries()) {
      expect(result).toEqual({ sha256: artifact.sha256, bytesFromPeers: artifact.size, bytesFromBucket: 0 });
      expect(await sha256File(testbed.destination(`m${i + 1}`, artifact.goal))).toBe(artifact.sha256);
    }
    const servedByMachines = (await Promise.all(machines.map((m) => m.status()))).flatMap((s) => s.serving).reduce((sum, s) => sum + s.uploadedBytes, 0);
    expect(servedByMachines).toBeGreaterThan(0);
    // Four copies left the machines; the seeding peer sent fewer than all four.
    expect(seeder.uploadedBytes() + servedByMachines).toBeGreaterThanOrEqual(4 * artifact.size);
    expect(seeder.uploadedBytes()).toBeLessThan(4 * artifact.size);
  });

  it('drops a peer serving tampered blocks and ignores a forged core on the topic; the file is the build', async () => {
    const artifact = await testbed.artifact('pay', 'eu', 8 * MiB);
    const liar = await servingPeer(testbed, 'liar', 'eu', artifact, { lie: 'tampered' });
    // Another key pair's core announced on the build's topic: no channel ever pairs with it.
    const other = await testbed.artifact('pay', 'eu', 2 * MiB);
    const forger = await servingPeer(testbed, 'forger', 'eu', other);
    await forger.swarm.serve(forger.core);
    const honest = await servingPeer(testbed, 'honest', 'eu', artifact, { uploadLimit: 2 * MiB });
    const fetcher = await testbed.fetcher('victim', 'eu');
    const destination = testbed.destination('victim', artifact.goal);
    const result = await fetcher.fetch({ goal: artifact.goal, destination, signal: never() });
    expect(result.sha256).toBe(artifact.sha256);
    expect(await sha256File(destination)).toBe(artifact.sha256);
    const rejected = (await fetcher.status()).rejectedPeers;
    expect(rejected.map((r) => r.peer)).toContain(liar.peerKey);
    expect(rejected.find((r) => r.peer === liar.peerKey)).toMatchObject({ build: artifact.goal.build, code: 'INVALID_CHECKSUM' });
    expect(rejected.map((r) => r.peer)).not.toContain(honest.peerKey);
    // Whatever the liar sent was thrown away: the honest peer served every block.
    expect(honest.uploadedBytes()).toBeGreaterThanOrEqual(artifact.size);
  });

  it('a peer that holds the build but never answers: its requests go to another peer once stuck, and the file is the build', async () => {
    const artifact = await testbed.artifact('quiet', 'eu', 4 * MiB);
    const silent = await servingPeer(testbed, 'silent', 'eu', artifact, { lie: 'silent' });
    const honest = await servingPeer(testbed, 'honest-q', 'eu', artifact, { uploadLimit: 4 * MiB });
    const fetcher = await testbed.fetcher('quiet-victim', 'eu', { stuckRequestMs: 500 });
    const destination = testbed.destination('quiet-victim', artifact.goal);
    const result = await fetcher.fetch({ goal: artifact.goal, destination, signal: AbortSignal.timeout(60_000) });
    expect(result.sha256).toBe(artifact.sha256);
    expect(await sha256File(destination)).toBe(artifact.sha256);
    expect(silent.uploadedBytes()).toBe(0);
    expect(honest.uploadedBytes()).toBeGreaterThanOrEqual(artifact.size);
  });

  it('with only lying peers, nothing is written and the fetch ends PEERS_UNAVAILABLE', async () => {
    const artifact = await testbed.artifact('pay', 'us', 4 * MiB);
    const liar = await servingPeer(testbed, 'liar-us', 'us', artifact, { lie: 'tampered' });
    const fetcher = await testbed.fetcher('victim-us', 'us', { noDataTimeoutMs: 3_000 });
    const destination = testbed.destination('victim-us', artifact.goal);
    const err = await rejection(fetcher.fetch({ goal: artifact.goal, destination, signal: never() }));
    expect(err.code).toBe('PEERS_UNAVAILABLE');
    expect(err.message).toMatch(/no peer served a block of build b\d+ \(pay\) in region us .*0 of 4 blocks held.*regional bucket/);
    expect(fs.existsSync(destination) ? fs.statSync(destination).size : 0).toBe(0);
    expect((await fetcher.status()).rejectedPeers.map((r) => r.peer)).toContain(liar.peerKey);
  });

  it('a core signed from other bytes under the build key (a compromised seeder) ends DIGEST_MISMATCH and is never served', async () => {
    const artifact = await testbed.artifact('ledger', 'eu', 3 * MiB + 1);
    await servingPeer(testbed, 'forked', 'eu', artifact, { lie: 'signed-other-bytes' });
    const fetcher = await testbed.fetcher('fork-victim', 'eu');
    const destination = testbed.destination('fork-victim', artifact.goal);
    const err = await rejection(fetcher.fetch({ goal: artifact.goal, destination, signal: never() }));
    expect(err.code).toBe('DIGEST_MISMATCH');
    expect(err.message).toContain(`the build has ${artifact.sha256}; it is not installed`);
    await fetcher.retain([{ goal: artifact.goal, file: destination }]);
    expect((await fetcher.status()).serving).toEqual([]);
  });

  it('retain() keeps serving the builds it names, across a restart, and deletes the other cores', async () => {
    const a = await testbed.artifact('web', 'ap', 2 * MiB);
    const b = await testbed.artifact('web', 'ap', 3 * MiB);
    const seedA = await servingPeer(testbed, 'seed-web-a', 'ap', a);
    const seedB = await servingPeer(testbed, 'seed-web-b', 'ap', b);
    const storageDir = path.join(testbed.dir, 'machines', 'keeper', 'cores');
    let keeper = await testbed.fetcher('keeper', 'ap', { storageDir });
    for (const { goal } of [a, b]) await keeper.fetch({ goal, destination: testbed.destination('keeper', goal), signal: never() });
    await keeper.retain([{ goal: a.goal, file: testbed.destination('keeper', a.goal) }]);
    expect(fs.readdirSync(storageDir)).toEqual([a.goal.p2pKey]);
    expect((await keeper.status()).serving.map((s) => s.build)).toEqual([a.goal.build]);

    // Restarted, it serves the retained build again: with its seeder gone, another machine gets it from the keeper.
    await keeper.close();
    await seedA.swarm.close();
    await seedB.swarm.close();
    keeper = await testbed.fetcher('keeper', 'ap', { storageDir });
    await keeper.retain([{ goal: a.goal, file: testbed.destination('keeper', a.goal) }]);
    const newcomer = await testbed.fetcher('newcomer', 'ap', { noDataTimeoutMs: 10_000 });
    const result = await newcomer.fetch({ goal: a.goal, destination: testbed.destination('newcomer', a.goal), signal: never() });
    expect(result.sha256).toBe(a.sha256);
    expect((await keeper.status()).serving[0]!.uploadedBytes).toBeGreaterThanOrEqual(a.size);
  });

  it('an aborted fetch rejects with the reason; the next one, after a retain() that does not name it, fetches only the missing blocks', async () => {
    const artifact = await testbed.artifact('slow', 'eu', 12 * MiB);
    await servingPeer(testbed, 'slow-seed', 'eu', artifact);
    // The download cap paces the requests, so the abort lands mid-way.
    const fetcher = await testbed.fetcher('patient', 'eu', { downloadLimit: 3 * MiB });
    const destination = testbed.destination('patient', artifact.goal);
    const controller = new AbortController();
    let last: FetchProgress | undefined;
    let heldAtAbort = 0;
    const stopped = await rejection(
      fetcher.fetch({
        goal: artifact.goal,
        destination,
        signal: controller.signal,
        onProgress: (p) => {
          last = p;
          if (p.bytes >= 3 * coreBlockSize && !controller.signal.aborted) {
            heldAtAbort = p.bytes;
            controller.abort(new Error('deploy superseded'));
          }
        },
      }),
    );
    expect(stopped.message).toBe('deploy superseded');
    expect(last).toMatchObject({ total: artifact.size, source: 'peers' });
    expect(last!.peers).toBeGreaterThanOrEqual(1);
    expect(heldAtAbort).toBeLessThan(artifact.size);
    // What a restarted agent does before it knows its goals again: retain only the installed builds.
    // The unfinished fetch's blocks stay, since its file is still on disk.
    await fetcher.retain([]);
    const result = await fetcher.fetch({ goal: artifact.goal, destination, signal: never() });
    expect(result.sha256).toBe(artifact.sha256);
    expect(result.bytesFromPeers).toBeLessThanOrEqual(artifact.size - heldAtAbort);
    expect(await sha256File(destination)).toBe(artifact.sha256);
  });

  it('without any peer, the fetch ends PEERS_UNAVAILABLE after the no-data time', async () => {
    const artifact = await testbed.artifact('lonely', 'eu', 2 * MiB);
    const fetcher = await testbed.fetcher('alone', 'eu', { noDataTimeoutMs: 2_500 });
    const err = await rejection(fetcher.fetch({ goal: artifact.goal, destination: testbed.destination('alone', artifact.goal), signal: never() }));
    expect(err.code).toBe('PEERS_UNAVAILABLE');
    expect(err.details).toMatchObject({ peers: 0, held: 0, blocks: 2 });
  });

  it('a goal without a P2P key is PEERS_UNAVAILABLE at once: the bucket fetcher takes it', async () => {
    const artifact = await testbed.artifact('nokey', 'eu', 1000, { p2pKey: null });
    const fetcher = await testbed.fetcher('nokey', 'eu');
    const err = await rejection(fetcher.fetch({ goal: artifact.goal, destination: testbed.destination('nokey', artifact.goal), signal: never() }));
    expect(err.code).toBe('PEERS_UNAVAILABLE');
    expect(err.message).toContain('no P2P core');
  });
});

describe('P2PFetcher on a full disk', () => {
  const mounts: string[] = [];
  afterAll(() => {
    for (const mount of mounts) execFileSync('umount', [mount]);
  });

  function tmpfs(name: string, size: string): string {
    const dir = path.join(testbed.dir, name);
    fs.mkdirSync(dir, { recursive: true });
    // CI runs as root; a machine where this fails must say so, not skip.
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
    mounts.push(dir);
    return dir;
  }

  it('refuses up front when the build cannot fit: DISK_FULL naming the disk', async () => {
    const artifact = await testbed.artifact('big', 'eu', 8 * MiB);
    await servingPeer(testbed, 'big-seed', 'eu', artifact);
    const small = tmpfs('small-disk', '4m');
    const fetcher = await testbed.fetcher('cramped', 'eu');
    const destination = path.join(small, 'builds', artifact.goal.fileName);
    const err = await rejection(fetcher.fetch({ goal: artifact.goal, destination, signal: never() }));
    expect(err.code).toBe('DISK_FULL');
    expect(err.message).toContain(path.dirname(destination));
    expect(err.message).toMatch(/needs 8 MiB there, .* are free.*Free space there/);
  });

  it('a disk slower than the peers: blocks requested or waiting for their write stay within the window', async () => {
    const artifact = await testbed.artifact('slowdisk', 'eu', 24 * MiB);
    await servingPeer(testbed, 'slowdisk-seed', 'eu', artifact);
    const fetcher = await testbed.fetcher('slowdisk', 'eu');
    // Requested or in memory, not yet on disk: what the downloader holds (or will) at once.
    let held = 0;
    let most = 0;
    let written = 0;
    const requestOriginal = BlockSession.prototype.request;
    const writeOriginal = ArtifactCore.prototype.writeBlock;
    // The disk takes 30 ms per 1 MiB block (dirty-page throttling); loopback delivers far faster.
    const requestSpy = vi.spyOn(BlockSession.prototype, 'request').mockImplementation(function (this: BlockSession, ...args) {
      most = Math.max(most, ++held);
      return requestOriginal.apply(this, args);
    });
    const writeSpy = vi.spyOn(ArtifactCore.prototype, 'writeBlock').mockImplementation(async function (this: ArtifactCore, ...args) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      await writeOriginal.apply(this, args);
      held--;
      written++;
    });
    try {
      const result = await fetcher.fetch({ goal: artifact.goal, destination: testbed.destination('slowdisk', artifact.goal), signal: never() });
      expect(result.sha256).toBe(artifact.sha256);
    } finally {
      requestSpy.mockRestore();
      writeSpy.mockRestore();
    }
    expect(written).toBe(24);
    expect(most).toBeLessThanOrEqual(defaultWindow);
  });

  it('a disk that fills up during the fetch: DISK_FULL, and the build is not reported done', async () => {
    const artifact = await testbed.artifact('grow', 'eu', 6 * MiB);
    await servingPeer(testbed, 'grow-seed', 'eu', artifact);
    const disk = tmpfs('filling-disk', '8m');
    const fetcher = await testbed.fetcher('filling', 'eu');
    const destination = path.join(disk, 'builds', artifact.goal.fileName);
    let filled = false;
    const err = await rejection(
      fetcher.fetch({
        goal: artifact.goal,
        destination,
        signal: never(),
        onProgress: () => {
          if (filled) return;
          filled = true;
          // Something else on the machine takes the rest of the disk.
          try {
            fs.writeFileSync(path.join(disk, 'filler'), Buffer.alloc(8 * MiB));
          } catch {
            // ENOSPC once the disk is full: that is the point.
          }
        },
      }),
    );
    expect(err.code).toBe('DISK_FULL');
    expect(err.message).toContain(destination);
  });
});

describe('P2PFetcher in a process killed with -9', () => {
  let running: JsonProcess[] = [];
  afterAll(() => {
    for (const child of running) child.kill('SIGKILL');
  });

  function fetchProcess(machine: string, goal: unknown, env: Record<string, string> = {}): JsonProcess {
    const child = spawnTs('test/fixtures/p2p-fetch.ts', {
      FLEETCAST_REGION: 'eu',
      FLEETCAST_DHT_BOOTSTRAP: testbed.dht.listen,
      FLEETCAST_P2P_IDENTITY: testbed.identityFile('agent', 'eu', machine),
      FLEETCAST_P2P_CA_KEYS: testbed.caKeys,
      FLEETCAST_P2P_HOST: '127.0.0.1',
      FLEETCAST_P2P_PORT: '0',
      GOAL: JSON.stringify(goal),
      STORAGE_DIR: path.join(testbed.dir, 'machines', machine, 'cores'),
      DESTINATION: path.join(testbed.dir, 'machines', machine, 'artifact'),
      EXIT_WHEN_DONE: '1',
      MACHINE: machine,
      ...env,
    });
    running.push(child);
    return child;
  }

  it('resumes after kill -9 and fetches only the blocks it did not have', async () => {
    const artifact = await testbed.artifact('crashy', 'eu', 24 * MiB);
    await servingPeer(testbed, 'crash-seed', 'eu', artifact);
    // The download cap keeps it mid-way long enough to be killed there.
    const first = fetchProcess('crashy', artifact.goal, { FLEETCAST_P2P_DOWNLOAD_LIMIT: '4M' });
    const seen = await first.waitFor((e) => e.event === 'progress' && Number(e.bytes) >= 8 * MiB, 40_000);
    first.kill('SIGKILL');
    expect(await first.exited).toMatchObject({ signal: 'SIGKILL' });
    expect(first.events.some((e) => e.event === 'done')).toBe(false);

    const second = fetchProcess('crashy', artifact.goal);
    const done = await second.waitFor((e) => e.event === 'done' || e.event === 'failed', 60_000);
    expect(done).toMatchObject({ event: 'done', sha256: artifact.sha256, size: artifact.size });
    // Blocks stored before the kill were not fetched again.
    expect(Number(done.bytesFromPeers)).toBeLessThanOrEqual(artifact.size - Number(seen.bytes));
    expect(await sha256File(path.join(testbed.dir, 'machines', 'crashy', 'artifact'))).toBe(artifact.sha256);
    running = [];
  });
});
