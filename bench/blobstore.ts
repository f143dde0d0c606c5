// npm run bench -- blobstore [--quick]
// Throughput of put, get and copy of one artifact (1 GiB; 64 MiB with --quick) through the
// filesystem store against /bin/cp, through the GCS store (real client, fake GCS server in its
// own process) against raw HTTP requests to the same server with Node's http module, and through
// the S3 store against the raw @aws-sdk/client-s3 (the local S3 server, s3rver, in its own
// process). Then the peak RSS of a separate process uploading the artifact through each store.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { FsBlobStore } from '../blobstore/index.ts';
import { lowMemoryEnv } from '../config/index.ts';
import { GcsBlobStore } from '../blobstore/gcs-blob-store.ts';
import { S3BlobStore } from '../blobstore/s3-blob-store.ts';
import { cp, RawGcs, RawS3, run, startFakeGcs, startS3Server } from './baselines.ts';
import { row, type BenchRow, type Benchmark } from './report.ts';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const MiB = 1 << 20;
const MB = 1_000_000;
const throughputTarget = 0.7;
/** Peak RSS of an uploading process, MiB (the builder benchmark's target, in the same unit). */
const rssTargetMiB = 150;

export const blobstoreBenchmark: Benchmark = {
  name: 'blobstore',
  description: 'put/get/copy of a 1 GiB artifact: fs store vs cp, GCS store vs raw HTTP, S3 store vs the raw SDK; peak RSS of an uploader',
  async run({ quick }) {
    const artifact = await benchArtifact(quick);
    const { size, rounds, label, work, source, sha256, name, out, removeOut } = artifact;
    const fake = await startFakeGcs(path.join(work, 'fake-gcs'));
    const s3 = await startS3Server(path.join(work, 's3'));
    try {
      const rows: BenchRow[] = [];

      // The ceiling of anything that verifies: one sha256 stream in this process.
      const hashSeconds = await medianOf(rounds, timed(async () => sha256Of(fs.createReadStream(source, { highWaterMark: MiB }))));
      rows.push(row(`sha256 of ${label} from the page cache (ceiling of put and verified get)`, size / MB / hashSeconds, 'MB/s'));

      // ---- filesystem store vs cp
      const root = path.join(work, 'buckets');
      const fsMain = await FsBlobStore.open({ root, bucket: 'fleetcast-main' });
      const fsUnsynced = await FsBlobStore.open({ root, bucket: 'fleetcast-main', fsync: false });
      const fsStreaming = await FsBlobStore.open({ root, bucket: 'fleetcast-main', linkCopies: false });
      const fsRegion = await FsBlobStore.open({ root, bucket: 'fleetcast-eu' });
      const stored = path.join(root, 'fleetcast-main', ...name.split('/'));
      const copied = path.join(work, 'copied.bin');
      const removeCopied = (): void => fs.rmSync(copied, { force: true });
      const putFs = (store: FsBlobStore) => () => store.put(name, fs.createReadStream(source, { highWaterMark: MiB }), { sha256, size });

      const put = await pair(rounds, timed(() => cp(source, copied, { sync: true }), removeCopied), timed(putFs(fsMain)));
      rows.push(compare(`fs put ${label}, fsync (default)`, size, 'cp + sync', put));
      const unsynced = await pair(rounds, timed(() => cp(source, copied), removeCopied), timed(putFs(fsUnsynced)));
      rows.push(
        compare(`fs put ${label}, fsync (default)`, size, 'cp', { store: put.store, baseline: unsynced.baseline }),
        compare(`fs put ${label}, fsync: false`, size, 'cp', unsynced),
      );
      const getFs = (verify: boolean) => async () => pipeline(await fsMain.get(name, { verify }), fs.createWriteStream(out));
      rows.push(
        compare(`fs get ${label}, verified (default)`, size, 'cp', await pair(rounds, timed(() => cp(stored, out), removeOut), timed(getFs(true), removeOut))),
        compare(`fs get ${label}, verify: false`, size, 'cp', await pair(rounds, timed(() => cp(stored, out), removeOut), timed(getFs(false), removeOut))),
        compare(
          `fs copy ${label} to region bucket, hard link (default)`,
          size,
          'cp',
          await pair(rounds, timed(() => cp(stored, copied), removeCopied), timed(() => fsMain.copy(name, fsRegion), () => fsRegion.delete(name))),
        ),
        compare(
          `fs copy ${label} to region bucket, streamed (linkCopies: false)`,
          size,
          'cp',
          await pair(rounds, timed(() => cp(stored, copied), removeCopied), timed(() => fsStreaming.copy(name, fsRegion), () => fsRegion.delete(name))),
        ),
      );

      // ---- GCS store vs raw HTTP to the same fake server
      const gcs = { apiEndpoint: fake.url, projectId: 'bench', createBucket: true };
      const gcsMain = await GcsBlobStore.open({ ...gcs, bucket: 'fleetcast-main' });
      const gcsRegion = await GcsBlobStore.open({ ...gcs, bucket: 'fleetcast-eu' });
      const raw = new RawGcs(fake.url);
      const getGcs = (verify: boolean) => async () => pipeline(await gcsMain.get(name, { verify }), fs.createWriteStream(out));
      const rawGet = timed(() => raw.download('fleetcast-main', 'raw/artifact', out), removeOut);
      rows.push(
        compare(
          `gcs put ${label}`,
          size,
          'raw HTTP upload',
          await pair(
            rounds,
            timed(() => raw.upload('fleetcast-main', 'raw/artifact', source, size)),
            timed(() => gcsMain.put(name, fs.createReadStream(source, { highWaterMark: MiB }), { sha256, size })),
          ),
        ),
        compare(`gcs get ${label}, verified (default)`, size, 'raw HTTP download', await pair(rounds, rawGet, timed(getGcs(true), removeOut))),
        compare(`gcs get ${label}, verify: false`, size, 'raw HTTP download', await pair(rounds, rawGet, timed(getGcs(false), removeOut))),
        compare(
          `gcs copy ${label} to region bucket, server-side`,
          size,
          'raw HTTP rewrite',
          await pair(
            rounds,
            timed(() => raw.rewrite('fleetcast-main', 'raw/artifact', 'fleetcast-eu', 'raw/artifact')),
            timed(() => gcsMain.copy(name, gcsRegion)),
          ),
        ),
      );
      raw.close();

      // ---- S3 store vs the raw SDK against the same local S3 server
      rows.push(...(await s3Rows({ s3, size, rounds, label, source, sha256, name, out, removeOut })));

      // ---- peak RSS of a process that uploads the artifact
      const child = { source, sha256, size, name: `rss/${sha256}` };
      const fsIdle = await childPeakRss({ kind: 'fs', root, idle: true, ...child });
      const gcsIdle = await childPeakRss({ kind: 'gcs', endpoint: fake.url, idle: true, ...child });
      for (const [kind, idle] of [
        ['fs', fsIdle],
        ['gcs', gcsIdle],
      ] as const) {
        const peak = await childPeakRss({ kind, root, endpoint: fake.url, idle: false, ...child });
        rows.push(...rssRows(kind, label, peak, idle));
      }
      rows.push(...(await s3RssRows(s3.url, label, child)));
      return rows;
    } finally {
      fake.stop();
      s3.stop();
      artifact.remove();
    }
  },
};

/** The S3 rows alone (`npm run bench -- blobstore-s3`): the same artifact and rounds, S3 only. */
export const blobstoreS3Benchmark: Benchmark = {
  name: 'blobstore-s3',
  onlyWhenNamed: true,
  description: 'the S3 rows of blobstore alone: put/get/copy of a 1 GiB artifact, S3 store vs the raw SDK; peak RSS of an uploader',
  async run({ quick }) {
    const artifact = await benchArtifact(quick);
    const { size, label, work, source, sha256 } = artifact;
    const s3 = await startS3Server(path.join(work, 's3'));
    try {
      const rows = await s3Rows({ s3, ...artifact });
      rows.push(...(await s3RssRows(s3.url, label, { source, sha256, size, name: `rss/${sha256}` })));
      return rows;
    } finally {
      s3.stop();
      artifact.remove();
    }
  },
};

/**
 * Put, get and copy through the S3 store against the raw SDK on the same server. Two put
 * baselines: one PutObject of the file (what the SDK's documentation shows; s3rver writes it
 * once), and a multipart upload of the same parts, as many in flight (s3rver writes every part,
 * then the whole object again at Complete, so this is the server work the store's put has).
 */
async function s3Rows(o: {
  s3: { url: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  size: number;
  rounds: number;
  label: string;
  source: string;
  sha256: string;
  name: string;
  out: string;
  removeOut: () => void;
}): Promise<BenchRow[]> {
  const { s3, size, rounds, label, source, sha256, name, out, removeOut } = o;
  const s3Options = { endpoint: s3.url, forcePathStyle: true, credentials: s3.credentials, createBucket: true };
  const main = await S3BlobStore.open({ ...s3Options, bucket: 'fleetcast-main' });
  const region = await S3BlobStore.open({ ...s3Options, bucket: 'fleetcast-eu' });
  const raw = new RawS3(s3.url, s3.credentials);
  try {
    const get = (verify: boolean) => async () => pipeline(await main.get(name, { verify }), fs.createWriteStream(out));
    const rawGet = timed(() => raw.download('fleetcast-main', 'raw/artifact', out), removeOut);
    const put = timed(() => main.put(name, fs.createReadStream(source, { highWaterMark: MiB }), { sha256, size }));
    return [
      compare(`s3 put ${label} (multipart, Content-MD5 + sha256 verified)`, size, 'raw SDK PutObject', await pair(rounds, timed(() => raw.upload('fleetcast-main', 'raw/artifact', source, size)), put)),
      compare(
        `s3 put ${label} (multipart, Content-MD5 + sha256 verified)`,
        size,
        'raw SDK multipart, same parts',
        await pair(rounds, timed(() => raw.multipartUpload('fleetcast-main', 'raw/multipart', source, 8 * MiB, 4)), put),
      ),
      compare(`s3 get ${label}, verified (default)`, size, 'raw SDK GetObject', await pair(rounds, rawGet, timed(get(true), removeOut))),
      compare(`s3 get ${label}, verify: false`, size, 'raw SDK GetObject', await pair(rounds, rawGet, timed(get(false), removeOut))),
      compare(
        `s3 copy ${label} to region bucket, server-side`,
        size,
        'raw SDK CopyObject',
        await pair(rounds, timed(() => raw.copy('fleetcast-main', 'raw/artifact', 'fleetcast-eu', 'raw/artifact')), timed(() => main.copy(name, region))),
      ),
    ];
  } finally {
    raw.close();
    await main.close();
    await region.close();
  }
}

async function s3RssRows(endpoint: string, label: string, child: { source: string; sha256: string; size: number; name: string }): Promise<BenchRow[]> {
  const idle = await childPeakRss({ kind: 's3', s3Endpoint: endpoint, idle: true, ...child });
  const peak = await childPeakRss({ kind: 's3', s3Endpoint: endpoint, idle: false, ...child });
  return rssRows('s3', label, peak, idle);
}

function rssRows(kind: string, label: string, peak: number, idle: number): BenchRow[] {
  return [
    row(`${kind} put ${label}: peak RSS of the uploading process`, peak, 'MiB', { target: `< ${rssTargetMiB} MiB`, pass: peak < rssTargetMiB }),
    row(`${kind}: peak RSS of the same process, modules loaded, no upload`, idle, 'MiB'),
  ];
}

/** A throughput row: MB/s of the store against MB/s of the baseline, both for `size` bytes. */
function compare(metric: string, size: number, baselineName: string, seconds: { store: number; baseline: number }): BenchRow {
  const value = size / MB / seconds.store;
  const baseline = size / MB / seconds.baseline;
  return row(`${metric} (baseline: ${baselineName})`, value, 'MB/s', {
    baseline,
    target: `>= ${throughputTarget} of baseline`,
    pass: value / baseline >= throughputTarget,
  });
}

/**
 * A measurement: seconds `work` takes; `after` (cleanup) runs outside the timing. Dirty pages
 * are flushed first, so no measurement pays for the writeback of the one before.
 */
function timed(work: () => Promise<unknown>, after?: () => unknown): () => Promise<number> {
  return async () => {
    await run('sync', []);
    const start = process.hrtime.bigint();
    await work();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    await after?.();
    return seconds;
  };
}

/** Median seconds of baseline and store over `rounds`, alternating which goes first. */
async function pair(rounds: number, baseline: () => Promise<number>, store: () => Promise<number>): Promise<{ baseline: number; store: number }> {
  const times = { baseline: [] as number[], store: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      times.baseline.push(await baseline());
      times.store.push(await store());
    } else {
      times.store.push(await store());
      times.baseline.push(await baseline());
    }
  }
  return { baseline: median(times.baseline), store: median(times.store) };
}

async function medianOf(rounds: number, measure: () => Promise<number>): Promise<number> {
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) times.push(await measure());
  return median(times);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function sha256Of(stream: AsyncIterable<Buffer>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest('hex');
}

/** Writes `size` bytes of incompressible data, hashing as it goes. */
/**
 * The artifact both blob-store benchmarks measure with (64 MiB and one round when quick, else
 * 1 GiB and five), its object name, and the file gets write into: in memory when it can, since
 * this VM's disk writes vary several-fold from one second to the next, which would swamp the
 * difference being measured.
 */
async function benchArtifact(quick: boolean) {
  const size = quick ? 64 * MiB : 1024 * MiB;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-bench-blobstore-'));
  const sink = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : work, 'fleetcast-bench-sink-'));
  const source = path.join(work, 'artifact.bin');
  const sha256 = await writeArtifact(source, size);
  const out = path.join(sink, 'out.bin');
  return {
    size,
    rounds: quick ? 1 : 5,
    label: quick ? '64 MiB' : '1 GiB',
    work,
    source,
    sha256,
    name: `artifacts/bench/b1/${sha256}`,
    out,
    removeOut: (): void => fs.rmSync(out, { force: true }),
    remove: (): void => {
      fs.rmSync(work, { recursive: true, force: true });
      fs.rmSync(sink, { recursive: true, force: true });
    },
  };
}

async function writeArtifact(file: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const out = fs.createWriteStream(file);
  let x = 0x2545f491;
  for (let written = 0; written < size; written += MiB) {
    const block = Buffer.allocUnsafeSlow(Math.min(MiB, size - written));
    const words = new Int32Array(block.buffer, block.byteOffset, block.length >> 2);
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[i] = x;
    }
    hash.update(block);
    if (!out.write(block)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return hash.digest('hex');
}

/** `/bin/cp`; with `sync`, then `sync FILE` (fsync), the durable equivalent of a put. */
async function childPeakRss(options: {
  kind: 'fs' | 'gcs' | 's3';
  root?: string;
  endpoint?: string;
  s3Endpoint?: string;
  idle: boolean;
  source: string;
  sha256: string;
  size: number;
  name: string;
}): Promise<number> {
  const script = `
    const fs = await import('node:fs');
    const o = ${JSON.stringify(options)};
    // Each kind loads only its own store, as createBlobStore does.
    const store = o.kind === 'fs'
      ? await (await import(${JSON.stringify(path.join(repo, 'blobstore', 'fs-blob-store.ts'))})).FsBlobStore.open({ root: o.root, bucket: 'fleetcast-rss' })
      : o.kind === 's3'
      ? await (await import(${JSON.stringify(path.join(repo, 'blobstore', 's3-blob-store.ts'))})).S3BlobStore.open({ endpoint: o.s3Endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, createBucket: true, bucket: 'fleetcast-rss' })
      : await (await import(${JSON.stringify(path.join(repo, 'blobstore', 'gcs-blob-store.ts'))})).GcsBlobStore.open({ apiEndpoint: o.endpoint, projectId: 'bench', createBucket: true, bucket: 'fleetcast-rss' });
    if (!o.idle) {
      await store.put(o.name, fs.createReadStream(o.source, { highWaterMark: 1 << 20 }), { sha256: o.sha256, size: o.size });
      await store.delete(o.name);
    }
    // VmHWM, not resourceUsage().maxRSS: Linux carries the maxRSS of the forked copy of the
    // (large) benchmark process across exec, so every probe would report at least the parent's size.
    const hwm = /VmHWM:\\s+(\\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    process.stdout.write(JSON.stringify({ maxRssKiB: Number(hwm?.[1]) }));
  `;
  // Compiled to JavaScript first, as bin/fleetcast.js runs the roles: a TypeScript loader in the
  // probe would add its own ~40 MB to the figure.
  const { build } = await import('esbuild');
  // Inside the checkout, so that its imports of packages resolve from node_modules.
  // Split into chunks, so each kind loads only its own store and client library.
  const probeDir = path.join(repo, 'node_modules', '.cache', 'fleetcast', `rss-probe-${process.pid}-${options.kind}`);
  const probe = path.join(probeDir, 'probe.mjs');
  const entry = path.join(probeDir, 'probe.ts');
  fs.mkdirSync(probeDir, { recursive: true });
  fs.writeFileSync(entry, script);
  await build({ entryPoints: [entry], outdir: probeDir, bundle: true, splitting: true, format: 'esm', platform: 'node', target: 'node24', packages: 'external', outExtension: { '.js': '.mjs' }, logLevel: 'error' });
  const child = spawn(process.execPath, [probe], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
    // The worker's shipped environment (systemd units, fleetcast up): the store runs in a worker.
    env: { ...process.env, ...lowMemoryEnv(), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const [stdout, stderr] = await Promise.all([child.stdout.toArray(), child.stderr.toArray()]);
  const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));
  fs.rmSync(probeDir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`RSS probe (${options.kind}) exited with ${code}: ${Buffer.concat(stderr).toString()}`);
  const { maxRssKiB } = JSON.parse(Buffer.concat(stdout).toString()) as { maxRssKiB: number };
  return maxRssKiB / 1024;
}
