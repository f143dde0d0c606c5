// Same-run baselines shared by the benchmarks: plain cp, the GCS JSON API spoken with Node's
// http module alone (no client library) against the fake server in its own process, and the S3
// API through @aws-sdk/client-s3 alone (no store around it) against the local S3 server in its
// own process.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const MiB = 1 << 20;

export async function cp(from: string, to: string, options: { sync?: boolean } = {}): Promise<void> {
  await run('/bin/cp', [from, to]);
  if (options.sync) await run('sync', [to]);
}

export async function run(command: string, args: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}`))));
  });
}

/** The fake GCS server in a process of its own, so it does not share this one's CPU time. */
export async function startFakeGcs(dir: string): Promise<{ url: string; stop: () => void }> {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(repo, 'test', 'support', 'fake-gcs-server.ts'), '--dir', dir],
    { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString()) as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`fake GCS server exited (${code}): ${stderr}`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

/** The local S3 server (s3rver and what it lacks) in a process of its own. */
export async function startS3Server(dir: string): Promise<{ url: string; credentials: { accessKeyId: string; secretAccessKey: string }; stop: () => void }> {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(repo, 'test', 'support', 's3-test-server.ts'), '--dir', dir],
    { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString()) as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`S3 test server exited (${code}): ${stderr}`)));
  });
  return { url, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, stop: () => child.kill('SIGTERM') };
}

/**
 * The same operations through the raw SDK, as its documentation shows them: one PutObject of a
 * file stream, a GetObject piped to a file, one CopyObject. No hashing, no verification, no
 * multipart, no retries of ours.
 */
export class RawS3 {
  readonly client: S3Client;

  constructor(url: string, credentials: { accessKeyId: string; secretAccessKey: string }) {
    this.client = new S3Client({ endpoint: url, region: 'us-east-1', forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  }

  async upload(bucket: string, key: string, file: string, size: number): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: fs.createReadStream(file, { highWaterMark: MiB }), ContentLength: size }));
  }

  /** CreateMultipartUpload, the file's parts of `partSize` with `inFlight` at once, Complete: no hashing, no checks. */
  async multipartUpload(bucket: string, key: string, file: string, partSize: number, inFlight: number): Promise<void> {
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const parts: { PartNumber: number; ETag: string }[] = [];
    const running = new Set<Promise<void>>();
    let number = 0;
    for await (const chunk of fs.createReadStream(file, { highWaterMark: partSize })) {
      const partNumber = ++number;
      const sending: Promise<void> = this.client
        .send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: partNumber, Body: chunk as Buffer }))
        .then((sent) => void parts.push({ PartNumber: partNumber, ETag: sent.ETag! }))
        .finally(() => running.delete(sending));
      running.add(sending);
      if (running.size >= inFlight) await Promise.race(running);
    }
    await Promise.all(running);
    parts.sort((a, b) => a.PartNumber - b.PartNumber);
    await this.client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
  }

  async download(bucket: string, key: string, to: string): Promise<void> {
    const response = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    await pipeline(response.Body as Readable, fs.createWriteStream(to));
  }

  async copy(bucket: string, key: string, toBucket: string, toKey: string): Promise<void> {
    await this.client.send(new CopyObjectCommand({ Bucket: toBucket, Key: toKey, CopySource: `${bucket}/${key}` }));
  }

  close(): void {
    this.client.destroy();
  }
}

/** The same operations as plain HTTP requests with Node's http module: no client library. */
export class RawGcs {
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly base: URL;

  constructor(url: string) {
    this.base = new URL(url);
  }

  async upload(bucket: string, name: string, file: string, size: number): Promise<void> {
    const query = `uploadType=media&name=${encodeURIComponent(name)}`;
    await this.request('POST', `/upload/storage/v1/b/${bucket}/o?${query}`, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) }, async (req) =>
      pipeline(fs.createReadStream(file, { highWaterMark: MiB }), req),
    );
  }

  async download(bucket: string, name: string, to: string): Promise<void> {
    await this.request('GET', `/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}?alt=media`, {}, async (req) => void req.end(), async (res) =>
      pipeline(res, fs.createWriteStream(to)),
    );
  }

  async rewrite(bucket: string, name: string, toBucket: string, toName: string): Promise<void> {
    const body = '{}';
    await this.request(
      'POST',
      `/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}/rewriteTo/b/${toBucket}/o/${encodeURIComponent(toName)}`,
      { 'Content-Type': 'application/json', 'Content-Length': String(body.length) },
      async (req) => void req.end(body),
    );
  }

  close(): void {
    this.agent.destroy();
  }

  private request(
    method: string,
    pathAndQuery: string,
    headers: Record<string, string>,
    send: (req: http.ClientRequest) => Promise<void>,
    receive: (res: http.IncomingMessage) => Promise<void> = async (res) => void (await res.toArray()),
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const req = http.request({ host: this.base.hostname, port: this.base.port, method, path: pathAndQuery, headers, agent: this.agent }, (res) => {
        if ((res.statusCode ?? 500) >= 300) {
          reject(new Error(`${method} ${pathAndQuery}: ${res.statusCode}`));
          res.resume();
          return;
        }
        receive(res).then(resolve, reject);
      });
      req.once('error', reject);
      send(req).catch(reject);
    });
  }
}

/**
 * Peak RSS (MB) of a fresh process that opens a store and puts the artifact (or, with `idle`,
 * only loads the same modules), from the kernel's own high-water mark (getrusage maxrss).
 */
