// Time from SUCCEEDED to deployable for one build across 3 regions, against a plain parallel
// copy of the same object into the same three buckets, measured in the same run:
//  - GCS (the production store; the fake JSON API in its own process): our replication
//    (planner, replicators, server-side copy, verification) vs three raw HTTP rewrite calls.
//  - S3 (the local S3 server, s3rver, in its own process): vs three CopyObject calls through the
//    raw @aws-sdk/client-s3.
//  - fs, bytes copied (regional buckets on disks of their own): vs three `cp` + `sync` (a
//    durable copy, as the store's put is durable).
//  - fs, one disk (the embedded default, hard links): informative.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { artifactObjectName, createBlobStore, type BlobStore } from '../blobstore/index.ts';
import { BuildQueue } from '../queue/index.ts';
import { ReplicationService } from '../coordinator/replication/index.ts';
import { ServiceRegistry } from '../queue/services/index.ts';
import { Database } from '../entities/index.ts';
import { cp, RawGcs, RawS3, run, startFakeGcs, startS3Server } from './baselines.ts';
import { row, type Benchmark, type BenchRow } from './report.ts';

const regions = ['eu', 'us', 'ap'];

type Setup = { kind: 'fs'; linkCopies: boolean } | { kind: 'gcs' } | { kind: 's3' };

/**
 * Deterministic bytes, 8 MiB at a time (never held whole): one random block per label, each
 * chunk stamped with its index, so every chunk differs and the same label gives the same bytes.
 */
function* artifactChunks(size: number, label: string): Generator<Buffer> {
  const block = Buffer.alloc(8 * 1024 * 1024);
  for (let i = 0; i < block.length; i += 32) createHash('sha256').update(`${label}:${i}`).digest().copy(block, i);
  for (let done = 0, index = 0; done < size; index++) {
    const chunk = Buffer.from(block.subarray(0, Math.min(block.length, size - done)));
    chunk.writeUInt32BE(index, 0);
    done += chunk.length;
    yield chunk;
  }
}

async function measure(size: number, setup: Setup, rounds: number): Promise<{ oursMs: number; baselineMs: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-bench-replication-'));
  const root = path.join(dir, 'buckets');
  const gcs = setup.kind === 'gcs' ? await startFakeGcs(path.join(dir, 'fake-gcs')) : undefined;
  const s3 = setup.kind === 's3' ? await startS3Server(path.join(dir, 's3')) : undefined;
  const open = (bucket: string) =>
    setup.kind === 'fs'
      ? createBlobStore({ kind: 'fs', bucket, fsRoot: root, fs: { linkCopies: setup.linkCopies } })
      : setup.kind === 's3'
        ? createBlobStore({ kind: 's3', bucket, s3: { endpoint: s3!.url, forcePathStyle: true, credentials: s3!.credentials, createBucket: true } })
        : createBlobStore({ kind: 'gcs', bucket, gcs: { apiEndpoint: gcs!.url, projectId: 'bench', createBucket: true } });
  const db = await Database.open({ sqlitePath: path.join(dir, 'fleetcast.sqlite') });
  const main = await open('fleetcast-main');
  const regional: Record<string, BlobStore> = {};
  for (const region of regions) regional[region] = await open(`fleetcast-${region}`);
  const raw = gcs ? new RawGcs(gcs.url) : undefined;
  const rawS3 = s3 ? new RawS3(s3.url, s3.credentials) : undefined;
  const replication = new ReplicationService(db, { regions, stores: { main, regions: regional }, workerId: 'bench', pacing: { plannerMs: 20 } });
  try {
    const services = new ServiceRegistry(db);
    await services.add({ name: 'api', repo: '/srv/git/api', buildCommand: 'make', artifactPath: 'api' });
    const queue = new BuildQueue(db, services);
    replication.start();

    /** Three plain copies of the build's object, at once, to names of their own. */
    const plainCopy = async (name: string, round: number) => {
      if (raw) {
        await Promise.all(regions.map((region) => raw.rewrite('fleetcast-main', name, `fleetcast-${region}`, `plain/${round}/${name}`)));
        return;
      }
      if (rawS3) {
        await Promise.all(regions.map((region) => rawS3.copy('fleetcast-main', name, `fleetcast-${region}`, `plain/${round}/${name}`)));
        return;
      }
      await Promise.all(
        regions.map(async (region) => {
          const target = path.join(dir, 'plain', String(round), region, 'artifact');
          fs.mkdirSync(path.dirname(target), { recursive: true });
          await cp(path.join(root, 'fleetcast-main', name), target, { sync: true });
        }),
      );
    };
    /** A build made SUCCEEDED with its object in the main bucket; resolves when it is deployable. */
    const replicate = async (name: string, digest: string, claimed: Awaited<ReturnType<BuildQueue['claim']>>) => {
      const succeeded = await queue.succeed(claimed!.claim, { digest, size });
      while (!(await replication.status.forBuild(succeeded)).deployable) await new Promise((resolve) => setTimeout(resolve, 5));
    };

    const ours: number[] = [];
    const plain: number[] = [];
    for (let round = 0; round < rounds; round++) {
      // Each round its own bytes, so no copy is served from the page cache of the one before.
      const chunks = () => artifactChunks(size, `round-${round}`);
      const hash = createHash('sha256');
      for (const chunk of chunks()) hash.update(chunk);
      const digest = hash.digest('hex');
      const { build } = await queue.submit({ service: 'api', commit: createHash('sha1').update(String(round)).digest('hex') });
      const name = artifactObjectName('api', build.id, digest);
      await main.put(name, Readable.from(chunks()), { sha256: digest, size });
      const claimed = await queue.claim('bench-builder');
      const timed = async (work: () => Promise<void>, into: number[]) => {
        await run('sync', []);
        const start = performance.now();
        await work();
        into.push(performance.now() - start);
      };
      // Alternate which goes first: the disk of this VM is noisy.
      const steps = [() => timed(() => plainCopy(name, round), plain), () => timed(() => replicate(name, digest, claimed), ours)];
      for (const step of round % 2 === 0 ? steps : steps.reverse()) await step();
    }
    return { oursMs: median(ours), baselineMs: median(plain) };
  } finally {
    await replication.stop();
    raw?.close();
    rawS3?.close();
    for (const store of [main, ...Object.values(regional)]) await store.close();
    await db.close();
    gcs?.stop();
    s3?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export const replicationBenchmark: Benchmark = {
  name: 'replication',
  description: 'SUCCEEDED to deployable across 3 regions vs a plain parallel copy of the same object (GCS, S3, fs)',
  async run({ quick }): Promise<BenchRow[]> {
    const size = quick ? 64 * 1024 * 1024 : 1024 * 1024 * 1024;
    const label = quick ? '64 MiB' : '1 GiB';
    const rounds = quick ? 1 : 3;
    const gcs = await measure(size, { kind: 'gcs' }, rounds);
    const s3 = await measure(size, { kind: 's3' }, rounds);
    const bytes = await measure(size, { kind: 'fs', linkCopies: false }, rounds);
    const links = await measure(size, { kind: 'fs', linkCopies: true }, rounds);
    const target = (result: { oursMs: number; baselineMs: number }) => ({
      baseline: result.baselineMs / 1000,
      higherIsBetter: false,
      target: '>= 0.8 of the plain copy speed',
      pass: result.baselineMs / result.oursMs >= 0.8,
    });
    return [
      row(`succeeded->deployable, ${label} x 3 regions, GCS (vs 3 raw rewrites)`, gcs.oursMs / 1000, 's', target(gcs)),
      row(`succeeded->deployable, ${label} x 3 regions, S3 (vs 3 raw SDK CopyObject)`, s3.oursMs / 1000, 's', target(s3)),
      row(`succeeded->deployable, ${label} x 3 regions, fs bytes (vs 3 cp + sync)`, bytes.oursMs / 1000, 's', target(bytes)),
      row(`succeeded->deployable, ${label} x 3 regions, fs one disk (hard links; vs 3 cp + sync)`, links.oursMs / 1000, 's', {
        baseline: links.baselineMs / 1000,
        higherIsBetter: false,
      }),
    ];
  },
};
