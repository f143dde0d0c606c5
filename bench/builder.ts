// Peak memory of a real builder worker (`fleetcast worker`, as users run it) building, hashing,
// uploading and verifying a 1 GiB artifact into each store: bytes must stream, so its peak RSS
// stays far below the artifact whatever its size.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createBlobStore } from '../blobstore/index.ts';
import { BuildQueue } from '../queue/index.ts';
import { ServiceRegistry } from '../queue/services/index.ts';
import { Database, defaultSqlitePath } from '../entities/index.ts';
import { SampleRepo } from '../test/support/git-repo.ts';
import { lowMemoryEnv } from '../config/index.ts';
import { spawnTs } from '../test/support/processes.ts';
import { startFakeGcs } from './baselines.ts';
import { row, type Benchmark, type BenchRow } from './report.ts';

/** VmHWM: the most memory the process ever held resident, in MiB. */
function peakRssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kib / 1024;
}

export const builderBenchmark: Benchmark = {
  name: 'builder',
  description: 'peak RSS of a fleetcast worker building and uploading a 1 GiB artifact (fs and GCS stores)',
  async run({ quick }): Promise<BenchRow[]> {
    const size = quick ? 64 * 1024 * 1024 : 1024 * 1024 * 1024;
    return [...(await measure('fs', size, quick)), ...(await measure('gcs', size, quick))];
  },
};

async function measure(kind: 'fs' | 'gcs', size: number, quick: boolean): Promise<BenchRow[]> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-bench-builder-'));
  const repo = SampleRepo.create();
  const db = await Database.open({ sqlitePath: defaultSqlitePath(dataDir) });
  const gcs = kind === 'gcs' ? await startFakeGcs(path.join(dataDir, 'fake-gcs')) : undefined;
  if (gcs) await (await createBlobStore({ kind: 'gcs', bucket: 'fleetcast-main', gcs: { apiEndpoint: gcs.url, projectId: 'bench', createBucket: true } })).close();
  const worker = spawnTs(
    'bin/fleetcast.js',
    {
      // The environment a worker ships with (systemd units, fleetcast up).
      ...lowMemoryEnv(),
      FLEETCAST_DATA_DIR: dataDir,
      FLEETCAST_WORKER_ID: 'bench',
      FLEETCAST_MIN_FREE_DISK: '1M',
      FLEETCAST_GIT_ALLOW_FILE: 'true',
      FLEETCAST_LOG_LEVEL: 'warn',
      FLEETCAST_BLOBSTORE: kind,
      ...(gcs ? { FLEETCAST_GCS_ENDPOINT: gcs.url, FLEETCAST_GCS_PROJECT: 'bench' } : {}),
    },
    ['worker'],
  );
  try {
    const services = new ServiceRegistry(db);
    await services.add({ name: 'big', repo: repo.dir, buildCommand: `head -c ${size} /dev/zero > "$FLEETCAST_OUT"`, artifactPath: 'big.bin' });
    const sha = repo.commit({ README: 'big\n' });
    const queue = new BuildQueue(db, services);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const idle = peakRssMiB(worker.child.pid!);
    const start = performance.now();
    const { build } = await queue.submit({ service: 'big', commit: sha });
    for (;;) {
      const current = await queue.get(build.id);
      if (current.status === 'SUCCEEDED') break;
      if (current.status === 'FAILED') throw new Error(`benchmark build failed: ${current.failureReason}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const seconds = (performance.now() - start) / 1000;
    const peak = peakRssMiB(worker.child.pid!);
    return [
      row(`${kind}: worker peak RSS, ${quick ? '64 MiB' : '1 GiB'} artifact`, peak, 'MiB', { target: '< 150 MiB', pass: peak < 150 }),
      row(`${kind}: worker peak RSS before the build (idle)`, idle, 'MiB'),
      row(`${kind}: build + hash + upload + verify throughput`, size / (1024 * 1024) / seconds, 'MiB/s'),
    ];
  } finally {
    worker.kill('SIGTERM');
    await worker.exited;
    gcs?.stop();
    await db.close();
    repo.remove();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
