// Time from SUCCEEDED to deployable for one build across 3 regions, against a plain parallel
// copy (`cp`, three at once) of the same object into the same three bucket folders, measured
// in the same run. The fs store is measured copying bytes (regional buckets on their own
// disks, as in production) and, for information, with its same-disk hard links.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { artifactObjectName, createBlobStore, type BlobStore } from '../blobstore/index.ts';
import { BuildQueue } from '../coordinator/queue/index.ts';
import { ReplicationService } from '../coordinator/replication/index.ts';
import { ServiceRegistry } from '../coordinator/services/index.ts';
import { Database } from '../entities/index.ts';
import { row, type Benchmark, type BenchRow } from './report.ts';

const exec = promisify(execFile);
const regions = ['eu', 'us', 'ap'];

/** Deterministic pseudo-random bytes, generated in 8 MiB chunks (never held whole). */
function* artifactChunks(size: number): Generator<Buffer> {
  let seed = createHash('sha256').update('fleetcast-bench').digest();
  for (let done = 0; done < size; ) {
    const chunk = Buffer.alloc(Math.min(8 * 1024 * 1024, size - done));
    for (let i = 0; i < chunk.length; i += 32) {
      seed = createHash('sha256').update(seed).digest();
      seed.copy(chunk, i);
    }
    done += chunk.length;
    yield chunk;
  }
}

async function measure(size: number, linkCopies: boolean): Promise<{ oursMs: number; cpMs: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-bench-replication-'));
  const root = path.join(dir, 'buckets');
  const db = await Database.open({ sqlitePath: path.join(dir, 'fleetcast.sqlite') });
  const open = (bucket: string) => createBlobStore({ kind: 'fs', bucket, fsRoot: root, fs: { linkCopies } });
  const main = await open('fleetcast-main');
  const regional: Record<string, BlobStore> = {};
  for (const region of regions) regional[region] = await open(`fleetcast-${region}`);
  let replication: ReplicationService | undefined;
  try {
    const services = new ServiceRegistry(db);
    await services.add({ name: 'api', repo: '/srv/git/api', buildCommand: 'make', artifactPath: 'api' });
    const queue = new BuildQueue(db, services);
    const { build } = await queue.submit({ service: 'api', commit: 'abcdef1' });
    const hash = createHash('sha256');
    for (const chunk of artifactChunks(size)) hash.update(chunk);
    const digest = hash.digest('hex');
    const name = artifactObjectName('api', build.id, digest);
    await main.put(name, Readable.from(artifactChunks(size)), { sha256: digest, size });

    // Baseline: three cp at once of the very object file into the three bucket folders.
    const source = path.join(root, 'fleetcast-main', name);
    const cpStart = performance.now();
    await Promise.all(
      regions.map(async (region) => {
        const target = path.join(dir, 'plain', region, 'artifact');
        fs.mkdirSync(path.dirname(target), { recursive: true });
        await exec('cp', [source, target]);
      }),
    );
    const cpMs = performance.now() - cpStart;

    replication = new ReplicationService(db, { regions, stores: { main, regions: regional }, workerId: 'bench', pacing: { plannerMs: 20 } });
    replication.start();
    const claimed = (await queue.claim('bench-builder'))!;
    const start = performance.now();
    const succeeded = await queue.succeed(claimed.claim, { digest, size });
    while (!(await replication.status.forBuild(succeeded)).deployable) await new Promise((resolve) => setTimeout(resolve, 5));
    return { oursMs: performance.now() - start, cpMs };
  } finally {
    await replication?.stop();
    for (const store of [main, ...Object.values(regional)]) await store.close();
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const replicationBenchmark: Benchmark = {
  name: 'replication',
  description: 'SUCCEEDED to deployable across 3 regions vs a plain parallel cp of the same object',
  async run({ quick }): Promise<BenchRow[]> {
    const size = quick ? 64 * 1024 * 1024 : 1024 * 1024 * 1024;
    const label = quick ? '64 MiB' : '1 GiB';
    const bytes = await measure(size, false);
    const links = await measure(size, true);
    const speed = (ms: number) => (3 * size) / (1024 * 1024) / (ms / 1000);
    return [
      row(`succeeded->deployable, ${label} x 3 regions (fs, byte copies)`, bytes.oursMs / 1000, 's', {
        baseline: bytes.cpMs / 1000,
        higherIsBetter: false,
        target: '>= 0.8 of plain parallel cp speed',
        pass: bytes.cpMs / bytes.oursMs >= 0.8,
      }),
      row(`replication throughput (fs, byte copies)`, speed(bytes.oursMs), 'MiB/s', { baseline: speed(bytes.cpMs) }),
      row(`succeeded->deployable, ${label} x 3 regions (fs, same-disk hard links)`, links.oursMs / 1000, 's', {
        baseline: links.cpMs / 1000,
        higherIsBetter: false,
      }),
    ];
  },
};
