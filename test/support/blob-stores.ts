// Fixtures of the blobstore tests: generated data, stores of each kind on fresh folders, a
// fresh fake GCS server and a fresh local S3 server, error assertions.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { isFleetcastError, type ErrorCode } from '../../errors/index.ts';
import { FakeGcsServer } from './fake-gcs-server.ts';
import { S3TestServer } from './s3-test-server.ts';
import type { BlobStore, BlobStoreKind } from '../../blobstore/blob-store.ts';
import { FsBlobStore, type FsBlobStoreOptions } from '../../blobstore/fs-blob-store.ts';
import { GcsBlobStore, type GcsBlobStoreOptions } from '../../blobstore/gcs-blob-store.ts';
import { S3BlobStore, type S3BlobStoreOptions } from '../../blobstore/s3-blob-store.ts';

const block = 1 << 20;

/** Deterministic pseudo-random bytes for a seed: the same seed and size always give the same data. */
function generatedBlock(seed: number, index: number, length: number): Buffer {
  // Never from the shared pool, so the buffer starts 4-byte aligned for the Int32Array view.
  const out = Buffer.allocUnsafeSlow(length);
  const words = new Int32Array(out.buffer, out.byteOffset, length >> 2);
  // xorshift32 seeded by (seed, block index): cheap, and no two blocks alike.
  let x = (seed * 0x9e3779b1) ^ (index * 0x85ebca6b) ^ 0x2545f491 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  for (let i = words.length * 4; i < length; i++) out[i] = (x >>> (8 * (i % 4))) & 0xff;
  return out;
}

/**
 * `size` bytes made on the fly in 1 MiB blocks: a 200 MB stream never exists in memory. With
 * `failAfter`, the stream errors once that many bytes have gone out (a writer crashing).
 */
export function generatedStream(size: number, seed = 1, options: { failAfter?: number } = {}): Readable {
  async function* blocks(): AsyncGenerator<Buffer> {
    for (let offset = 0, index = 0; offset < size; offset += block, index++) {
      if (options.failAfter !== undefined && offset >= options.failAfter) throw new Error('source aborted half-way');
      yield generatedBlock(seed, index, Math.min(block, size - offset));
    }
  }
  return Readable.from(blocks(), { objectMode: false });
}

/** The sha256 of `generatedStream(size, seed)`, computed the same way (streaming). */
export async function generatedSha256(size: number, seed = 1): Promise<string> {
  return sha256Of(generatedStream(size, seed));
}

export async function sha256Of(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest('hex');
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

/** Awaits `promise`, expecting it to fail with a FleetcastError of `code`; returns the error. */
export async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<Error & { code: string; details: Record<string, unknown> }> {
  const err = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(isFleetcastError(err), `expected a FleetcastError ${code}, got ${err instanceof Error ? err.stack : String(err)}`).toBe(true);
  expect((err as { code: string }).code).toBe(code);
  return err as Error & { code: string; details: Record<string, unknown> };
}

/** A place to make stores of one kind, on its own folder and (for GCS, S3) its own server. */
export interface StoreSite {
  kind: BlobStoreKind;
  open(bucket: string): Promise<BlobStore>;
  /** Every name the backend holds in a bucket, bookkeeping included (temp files, temp uploads). */
  leftovers(bucket: string): string[];
  fake: FakeGcsServer | undefined;
  /** The local S3 server (s3rver with what it lacks), for kind s3. */
  s3: S3TestServer | undefined;
  root: string;
  close(): Promise<void>;
}

export async function openSite(
  kind: BlobStoreKind,
  options: { fs?: Partial<FsBlobStoreOptions>; gcs?: Partial<GcsBlobStoreOptions>; s3?: Partial<S3BlobStoreOptions>; s3Server?: { checkContentMd5?: boolean } } = {},
): Promise<StoreSite> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `fleetcast-blobstore-${kind}-`));
  const fake = kind === 'gcs' ? await FakeGcsServer.start({ dir: path.join(root, 'fake-gcs') }) : undefined;
  const s3 = kind === 's3' ? await S3TestServer.start({ dir: path.join(root, 's3'), ...options.s3Server }) : undefined;
  const stores: BlobStore[] = [];
  return {
    kind,
    fake,
    s3,
    root,
    async open(bucket) {
      const store =
        kind === 'fs'
          ? await FsBlobStore.open({ root: path.join(root, 'buckets'), bucket, fsync: false, ...options.fs })
          : kind === 's3'
            ? await S3BlobStore.open({
                bucket,
                endpoint: s3!.url,
                forcePathStyle: true,
                credentials: s3!.credentials,
                createBucket: true,
                retry: { initialDelayMs: 5, maxDelayMs: 50 },
                stallTimeoutMs: 5_000,
                logSpillDir: root,
                ...options.s3,
              })
          : await GcsBlobStore.open({
              bucket,
              apiEndpoint: fake!.url,
              projectId: 'fleetcast-test',
              createBucket: true,
              retry: { initialDelayMs: 5, maxDelayMs: 50 },
              stallTimeoutMs: 5_000,
              logSpillDir: root,
              ...options.gcs,
            });
      stores.push(store);
      return store;
    },
    leftovers(bucket) {
      if (fake) return fake.objectNames(bucket);
      // Unfinished multipart uploads count: their parts are bytes left behind.
      if (s3) return [...s3.objectNames(bucket), ...s3.pendingUploads(bucket).map((key) => `${key} (unfinished upload)`)];
      return listFiles(path.join(root, 'buckets', bucket));
    },
    async close() {
      for (const store of stores) await store.close();
      await fake?.close();
      await s3?.close();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)))
    .sort();
}

/**
 * Runs blob-crash-writer.ts in a child process, lets it write a few MiB of an object, then
 * kills it with SIGKILL mid-write. Resolves with the dead writer's pid.
 */
export async function crashWriterMidPut(args: { kind: BlobStoreKind; root?: string; endpoint?: string; bucket: string; name: string; sha256?: string }): Promise<number> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'blob-crash-writer.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('writing')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`crash writer exited (${code}) before writing: ${stderr}`)));
  });
  // Let some more bytes reach the store, then pull the plug.
  await new Promise((resolve) => setTimeout(resolve, 200));
  child.kill('SIGKILL');
  await exited;
  return child.pid!;
}
