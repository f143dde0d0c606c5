// A local S3-compatible server for the S3 store's tests and benchmarks: s3rver 3.7 (npm,
// filesystem-backed) run in this process, with the pieces it lacks written here and put in
// front of its router:
//
// - UploadPartCopy (`PUT ?partNumber&uploadId` with x-amz-copy-source): s3rver answers 501;
// - AbortMultipartUpload (`DELETE ?uploadId`): s3rver answers 405, so parts stayed forever;
// - ListMultipartUploads (`GET /<bucket>?uploads`): s3rver answers 501;
// - Content-MD5 checks (BadDigest): s3rver stores whatever arrives;
// - If-Match on GET/HEAD and x-amz-copy-source-if-match on copies: s3rver ignores them;
// - ListObjectsV2 that pages: s3rver makes continuation tokens with DES, which Node 17+
//   (OpenSSL 3) refuses, so any truncated listing answers 500; and it lists in directory order
//   (`api/` before `api-v2/`, then whatever readdir gives), where S3 lists in UTF-8 byte order.
// Like s3rver, it checks only the access key id of a request, not its SigV4 signature (s3rver
// leaves V4 verification unimplemented). Deviations left alone: a PutObject that
// fails its Content-MD5 check has already replaced the previous object (S3 keeps it); a
// multipart object's ETag is the MD5 of its bytes (S3's is the MD5 of the parts' MD5s, `-<n>`).
//
// Faults for tests: `failNext` answers the next N matching requests with an S3 error,
// `corruptNextDownloads` flips a byte of the next object reads, `truncateNextDownloads` cuts a
// read's connection after some bytes, `corruptNextUploads` damages the next part or object
// "in transit" (before the Content-MD5 check, which catches it unless turned off).
//
// Run alone (benchmarks): `tsx test/support/s3-test-server.ts [--dir D]` prints
// `{"url": ...}` on stdout and serves until SIGTERM.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { fileURLToPath } from 'node:url';
import S3rver from 's3rver';

export type S3RequestKind =
  | 'bucket.head'
  | 'bucket.create'
  | 'object.list'
  | 'object.head'
  | 'object.get'
  | 'object.put'
  | 'object.copy'
  | 'object.delete'
  | 'upload.create'
  | 'upload.part'
  | 'upload.partCopy'
  | 'upload.complete'
  | 'upload.abort'
  | 'upload.list'
  | 'unknown';

export interface S3Request {
  method: string;
  kind: S3RequestKind;
  bucket?: string;
  key?: string;
  url: string;
  /** The Range header of a read, or x-amz-copy-source-range of a part copy. */
  range?: string;
  /** The x-amz-content-sha256 header: the payload's sha256 as signed, or UNSIGNED-PAYLOAD. */
  payloadHash?: string;
  /** Status sent, once answered. */
  status?: number;
}

export interface S3Failure {
  /** @defaultValue 503 */
  status?: number;
  /** The S3 error code in the answer. @defaultValue SlowDown for 503, InternalError otherwise */
  code?: string;
  /** How many matching requests fail. @defaultValue 1 */
  count?: number;
  /** Which requests; all when absent. */
  match?: (request: S3Request) => boolean;
}

/** The parts of koa's context this file uses. */
interface KoaContext {
  method: string;
  path: string;
  url: string;
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | string[] | undefined>;
  req: NodeJS.ReadableStream & { socket: { destroy(): void } };
  status: number;
  body: unknown;
  type: string;
  set(name: string, value: string): void;
  response: { headers: Record<string, unknown> };
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

interface FilesystemStore {
  rootDirectory: string;
  getMetadata(bucket: string, key: string): Promise<Record<string, string>>;
  getObject(bucket: string, key: string, options?: { start?: number; end?: number }): Promise<{ content: Readable } | null>;
  putPart(bucket: string, uploadId: string, partNumber: number, content: Readable): Promise<{ md5: string; size: number }>;
}
interface ListOptions {
  delimiter?: string;
  startAfter?: string;
  prefix?: string;
  maxKeys?: number;
}

const objectSuffix = '._S3rver_object';
const uploadsDirName = '._S3rver_uploads';

export class S3TestServer {
  /** Every request seen, in order, for assertions such as "the copy was server-side". */
  readonly requests: S3Request[] = [];
  /** s3rver's fixed keys; the SDK signs with them and s3rver checks the signatures. */
  readonly credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  private readonly failures: (Required<Omit<S3Failure, 'match'>> & Pick<S3Failure, 'match'>)[] = [];
  private corruptDownloads = 0;
  private truncatedDownloads: number[] = [];
  private corruptUploads = 0;

  private constructor(
    private readonly server: S3rver,
    readonly url: string,
    readonly dir: string,
    private readonly ownsDir: boolean,
    private readonly checkContentMd5: boolean,
  ) {}

  /**
   * Starts a server on a free port of 127.0.0.1 keeping its buckets in `dir` (a fresh temporary
   * folder by default). `checkContentMd5: false` behaves like servers that ignore Content-MD5.
   */
  static async start(options: { dir?: string; checkContentMd5?: boolean } = {}): Promise<S3TestServer> {
    const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-s3-'));
    fs.mkdirSync(dir, { recursive: true });
    const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir });
    const address = await server.run();
    const url = `http://127.0.0.1:${address.port}`;
    const fake = new S3TestServer(server, url, dir, options.dir === undefined, options.checkContentMd5 ?? true);
    const app = server as unknown as { middleware: Middleware[]; store: FilesystemStore };
    // Koa composes its middleware per request, so what is put first here runs before s3rver's.
    app.middleware.unshift((ctx, next) => fake.handle(ctx, next));
    return fake;
  }

  /** Forgets failures armed and not used up. */
  clearFailures(): void {
    this.failures.length = 0;
  }

  failNext(failure: S3Failure): void {
    const status = failure.status ?? 503;
    this.failures.push({ status, code: failure.code ?? (status === 503 ? 'SlowDown' : 'InternalError'), count: failure.count ?? 1, match: failure.match });
  }

  /** The next `count` object reads deliver one byte flipped. */
  corruptNextDownloads(count = 1): void {
    this.corruptDownloads += count;
  }

  /** The next `count` object reads stop after `afterBytes` bytes and their connection is cut. */
  truncateNextDownloads(count: number, afterBytes: number): void {
    for (let i = 0; i < count; i++) this.truncatedDownloads.push(afterBytes);
  }

  /** The next `count` parts or objects written arrive with one byte flipped. */
  corruptNextUploads(count = 1): void {
    this.corruptUploads += count;
  }

  /** Every object key in a bucket, bookkeeping included, in byte order. */
  objectNames(bucket: string): string[] {
    const root = path.join(this.dir, bucket);
    const keys: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          if (entry.name !== uploadsDirName) walk(file);
        } else if (entry.name.endsWith(objectSuffix)) {
          keys.push(path.relative(root, file).slice(0, -objectSuffix.length).split(path.sep).join('/'));
        }
      }
    };
    walk(root);
    return keys.sort(compareKeys);
  }

  /** The keys of multipart uploads started and neither completed nor aborted. */
  pendingUploads(bucket: string): string[] {
    return this.uploads(bucket).map((u) => u.key).sort(compareKeys);
  }

  async close(): Promise<void> {
    await this.server.close();
    if (this.ownsDir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  // ---- request handling

  private async handle(ctx: KoaContext, next: () => Promise<void>): Promise<void> {
    const request = classify(ctx);
    this.requests.push(request);
    try {
      const failure = this.failures.find((f) => f.count > 0 && (!f.match || f.match(request)));
      if (failure) {
        failure.count -= 1;
        await drain(ctx.req);
        return sendError(ctx, failure.status, failure.code, 'injected by the test');
      }
      const accessKey = /Credential=([^/]+)\//.exec(header(ctx, 'authorization') ?? '')?.[1];
      if (accessKey !== undefined && accessKey !== this.credentials.accessKeyId) {
        return sendError(ctx, 403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
      }
      if (request.kind === 'object.list' && ctx.query['list-type'] === '2') return await this.listObjects(ctx, request);
      if (request.kind === 'upload.partCopy') return await this.uploadPartCopy(ctx, request);
      if (request.kind === 'upload.abort') return this.abortUpload(ctx, request);
      if (request.kind === 'upload.list') return this.listUploads(ctx, request);
      if ((request.kind === 'object.get' || request.kind === 'object.head') && header(ctx, 'if-match')) {
        const etag = await this.etagOf(request.bucket!, request.key!);
        if (etag !== undefined && unquote(etag) !== unquote(header(ctx, 'if-match')!)) return sendError(ctx, 412, 'PreconditionFailed', 'At least one of the preconditions you specified did not hold.');
      }
      if (request.kind === 'object.copy' && header(ctx, 'x-amz-copy-source-if-match')) {
        const source = copySource(ctx);
        const etag = await this.etagOf(source.bucket, source.key);
        if (etag !== undefined && unquote(etag) !== unquote(header(ctx, 'x-amz-copy-source-if-match')!)) return sendError(ctx, 412, 'PreconditionFailed', 'At least one of the preconditions you specified did not hold.');
      }
      await next();
      if ((request.kind === 'upload.part' || request.kind === 'object.put') && ctx.status === 200) await this.afterWrite(ctx, request);
      if (request.kind === 'object.get' && (ctx.status === 200 || ctx.status === 206) && ctx.body instanceof Readable) this.alterDownload(ctx);
    } finally {
      request.status = ctx.status;
    }
  }

  /** Faults and the Content-MD5 check on what s3rver has just stored. */
  private async afterWrite(ctx: KoaContext, request: S3Request): Promise<void> {
    const stored =
      request.kind === 'upload.part'
        ? path.join(this.dir, request.bucket!, uploadsDirName, String(ctx.query.uploadId), String(ctx.query.partNumber))
        : path.join(this.dir, request.bucket!, ...request.key!.split('/')) + objectSuffix;
    if (this.corruptUploads > 0 && fs.statSync(stored).size > 0) {
      this.corruptUploads -= 1;
      const fd = fs.openSync(stored, 'r+');
      const byte = Buffer.alloc(1);
      fs.readSync(fd, byte, 0, 1, 0);
      byte[0] = byte[0]! ^ 0xff;
      fs.writeSync(fd, byte, 0, 1, 0);
      fs.closeSync(fd);
      const md5 = createHash('md5').update(fs.readFileSync(stored)).digest('hex');
      fs.writeFileSync(`${stored}.md5`, md5);
      ctx.set('ETag', JSON.stringify(md5));
    }
    const claimed = header(ctx, 'content-md5');
    if (!this.checkContentMd5 || !claimed) return;
    // s3rver keeps the MD5 of what it stored beside it (hex).
    const actual = Buffer.from(fs.readFileSync(`${stored}.md5`, 'utf8').trim(), 'hex').toString('base64');
    if (actual === claimed) return;
    for (const file of [stored, `${stored}.md5`]) fs.rmSync(file, { force: true });
    sendError(ctx, 400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
  }

  private alterDownload(ctx: KoaContext): void {
    const body = ctx.body as Readable;
    if (this.corruptDownloads > 0) {
      this.corruptDownloads -= 1;
      let flipped = false;
      ctx.body = body.pipe(
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            if (!flipped && chunk.length > 0) {
              const copy = Buffer.from(chunk);
              copy[0] = copy[0]! ^ 0xff;
              flipped = true;
              callback(null, copy);
            } else callback(null, chunk);
          },
        }),
      );
      return;
    }
    const cutAfter = this.truncatedDownloads.shift();
    if (cutAfter === undefined) return;
    let sent = 0;
    const socket = ctx.req.socket;
    ctx.body = body.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          const part = chunk.subarray(0, cutAfter - sent);
          sent += part.length;
          if (sent < cutAfter) return callback(null, part);
          // Send the part, then hold the response open (never ending it, so the connection
          // cannot be reused) and cut the connection once the bytes are out.
          this.push(part);
          setTimeout(() => socket.destroy(), 50);
        },
      }),
    );
  }

  /** ListObjectsV2 in byte order; the continuation token is the last key listed, in base64. */
  private async listObjects(ctx: KoaContext, request: S3Request): Promise<void> {
    if (!fs.existsSync(path.join(this.dir, request.bucket!))) return sendError(ctx, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    const query = (name: string): string => String(ctx.query[name] ?? '');
    const maxKeys = Math.min(1000, Number(query('max-keys') || 1000));
    const token = query('continuation-token');
    const startAfter = token ? Buffer.from(token, 'base64url').toString() : query('start-after');
    const store = (this.server as unknown as { store: FilesystemStore }).store;
    const listing = await sortedListing(store, request.bucket!, { prefix: query('prefix'), delimiter: query('delimiter'), startAfter, maxKeys });
    const contents = await Promise.all(
      listing.keys.map(async (key) => {
        const meta = await store.getMetadata(request.bucket!, key);
        const modified = new Date(meta['last-modified']!).toISOString();
        return `<Contents><Key>${escapeXml(key)}</Key><LastModified>${modified}</LastModified><ETag>${escapeXml(meta.etag!)}</ETag><Size>${meta['content-length']}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
      }),
    );
    const next = listing.isTruncated ? `<NextContinuationToken>${Buffer.from(listing.keys.at(-1)!).toString('base64url')}</NextContinuationToken>` : '';
    const prefixes = listing.commonPrefixes.map((p) => `<CommonPrefixes><Prefix>${escapeXml(p)}</Prefix></CommonPrefixes>`).join('');
    sendXml(
      ctx,
      200,
      `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${escapeXml(request.bucket!)}</Name><Prefix>${escapeXml(query('prefix'))}</Prefix><KeyCount>${listing.keys.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${listing.isTruncated}</IsTruncated>${token ? `<ContinuationToken>${escapeXml(token)}</ContinuationToken>` : ''}${next}${contents.join('')}${prefixes}</ListBucketResult>`,
    );
  }

  /** UploadPartCopy: a byte range of an object becomes one part of an upload. */
  private async uploadPartCopy(ctx: KoaContext, request: S3Request): Promise<void> {
    const uploadId = String(ctx.query.uploadId);
    const partNumber = Number(ctx.query.partNumber);
    if (!fs.existsSync(this.uploadDir(request.bucket!, uploadId))) return sendError(ctx, 404, 'NoSuchUpload', 'The specified upload does not exist.');
    const source = copySource(ctx);
    const etag = await this.etagOf(source.bucket, source.key);
    if (etag === undefined) return sendError(ctx, 404, 'NoSuchKey', 'The specified key does not exist.');
    const ifMatch = header(ctx, 'x-amz-copy-source-if-match');
    if (ifMatch && unquote(ifMatch) !== unquote(etag)) return sendError(ctx, 412, 'PreconditionFailed', 'At least one of the preconditions you specified did not hold.');
    const range = /^bytes=(\d+)-(\d+)$/.exec(header(ctx, 'x-amz-copy-source-range') ?? '');
    const store = (this.server as unknown as { store: FilesystemStore }).store;
    const object = await store.getObject(source.bucket, source.key, range ? { start: Number(range[1]), end: Number(range[2]) } : undefined);
    if (!object?.content) return sendError(ctx, 416, 'InvalidRange', 'The requested range is not satisfiable');
    const { md5 } = await store.putPart(request.bucket!, uploadId, partNumber, object.content);
    fs.writeFileSync(path.join(this.uploadDir(request.bucket!, uploadId), `${partNumber}.md5`), md5);
    sendXml(ctx, 200, `<CopyPartResult><ETag>${escapeXml(JSON.stringify(md5))}</ETag><LastModified>${new Date().toISOString()}</LastModified></CopyPartResult>`);
  }

  private abortUpload(ctx: KoaContext, request: S3Request): void {
    const dir = this.uploadDir(request.bucket!, String(ctx.query.uploadId));
    if (!fs.existsSync(dir)) return sendError(ctx, 404, 'NoSuchUpload', 'The specified upload does not exist.');
    fs.rmSync(dir, { recursive: true, force: true });
    ctx.status = 204;
    ctx.body = null;
  }

  /** One page with every upload (no pagination: tests start few). */
  private listUploads(ctx: KoaContext, request: S3Request): void {
    if (!fs.existsSync(path.join(this.dir, request.bucket!))) return sendError(ctx, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    const prefix = String(ctx.query.prefix ?? '');
    const uploads = this.uploads(request.bucket!)
      .filter((u) => u.key.startsWith(prefix))
      .sort((a, b) => compareKeys(a.key, b.key) || a.id.localeCompare(b.id));
    const entries = uploads.map((u) => `<Upload><Key>${escapeXml(u.key)}</Key><UploadId>${u.id}</UploadId><Initiated>${u.initiated.toISOString()}</Initiated></Upload>`).join('');
    sendXml(ctx, 200, `<ListMultipartUploadsResult><Bucket>${escapeXml(request.bucket!)}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><Prefix>${escapeXml(prefix)}</Prefix><IsTruncated>false</IsTruncated>${entries}</ListMultipartUploadsResult>`);
  }

  private uploads(bucket: string): { key: string; id: string; initiated: Date }[] {
    const root = path.join(this.dir, bucket, uploadsDirName);
    if (!fs.existsSync(root)) return [];
    return fs.readdirSync(root).flatMap((id) => {
      const keyFile = path.join(root, id, 'key');
      if (!fs.existsSync(keyFile)) return [];
      return [{ key: fs.readFileSync(keyFile, 'utf8'), id, initiated: fs.statSync(keyFile).mtime }];
    });
  }

  private uploadDir(bucket: string, uploadId: string): string {
    return path.join(this.dir, bucket, uploadsDirName, path.basename(uploadId));
  }

  private async etagOf(bucket: string, key: string): Promise<string | undefined> {
    const store = (this.server as unknown as { store: FilesystemStore }).store;
    try {
      return (await store.getMetadata(bucket, key)).etag;
    } catch {
      return undefined;
    }
  }
}

/** The keys of a listing page in S3's order: every key under the prefix, sorted by UTF-8 bytes, then paged. */
async function sortedListing(store: FilesystemStore, bucket: string, options: ListOptions): Promise<{ keys: string[]; commonPrefixes: string[]; isTruncated: boolean }> {
  const { delimiter = '', startAfter = '', prefix = '', maxKeys = Infinity } = options;
  const root = path.join(store.rootDirectory, bucket);
  const keys: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== uploadsDirName) walk(file);
      } else if (entry.name.endsWith(objectSuffix)) {
        const key = path.relative(root, file).slice(0, -objectSuffix.length).split(path.sep).join('/');
        if (key.startsWith(prefix)) keys.push(key);
      }
    }
  };
  if (fs.existsSync(root)) walk(root);
  keys.sort(compareKeys);
  const commonPrefixes = new Set<string>();
  const page: string[] = [];
  let isTruncated = false;
  for (const key of keys) {
    if (compareKeys(key, startAfter) <= 0) continue;
    const at = delimiter ? key.slice(prefix.length).indexOf(delimiter) : -1;
    if (at !== -1) {
      commonPrefixes.add(key.slice(0, prefix.length + at + 1));
      continue;
    }
    if (page.length >= maxKeys) {
      isTruncated = true;
      break;
    }
    page.push(key);
  }
  return { keys: page, commonPrefixes: [...commonPrefixes].sort(compareKeys), isTruncated };
}

function classify(ctx: KoaContext): S3Request {
  const [bucket, ...rest] = ctx.path.replace(/^\//, '').split('/');
  const key = rest.length > 0 ? rest.map((segment) => decodeURIComponent(segment)).join('/') : undefined;
  // The SDK names the operation in an `x-id` parameter (`?x-id=GetObject`); S3 ignores it.
  const q = Object.fromEntries(Object.entries(ctx.query).filter(([name]) => name !== 'x-id'));
  const has = (name: string): boolean => name in q;
  const method = ctx.method;
  let kind: S3RequestKind = 'unknown';
  if (bucket && !key) {
    if (method === 'HEAD') kind = 'bucket.head';
    else if (method === 'PUT' && Object.keys(q).length === 0) kind = 'bucket.create';
    else if (method === 'GET' && has('uploads')) kind = 'upload.list';
    else if (method === 'GET') kind = 'object.list';
  } else if (bucket && key) {
    const copying = 'x-amz-copy-source' in ctx.headers;
    if (method === 'HEAD') kind = 'object.head';
    else if (method === 'GET' && Object.keys(q).length === 0) kind = 'object.get';
    else if (method === 'PUT' && has('uploadId')) kind = copying ? 'upload.partCopy' : 'upload.part';
    else if (method === 'PUT' && Object.keys(q).length === 0) kind = copying ? 'object.copy' : 'object.put';
    else if (method === 'POST' && has('uploads')) kind = 'upload.create';
    else if (method === 'POST' && has('uploadId')) kind = 'upload.complete';
    else if (method === 'DELETE' && has('uploadId')) kind = 'upload.abort';
    else if (method === 'DELETE') kind = 'object.delete';
  }
  const range = header(ctx, 'range') ?? header(ctx, 'x-amz-copy-source-range');
  const payloadHash = header(ctx, 'x-amz-content-sha256');
  return { method, kind, ...(bucket ? { bucket } : {}), ...(key ? { key } : {}), url: ctx.url, ...(range ? { range } : {}), ...(payloadHash ? { payloadHash } : {}) };
}

function copySource(ctx: KoaContext): { bucket: string; key: string } {
  const [bucket, ...key] = decodeURI(header(ctx, 'x-amz-copy-source') ?? '')
    .replace(/^\//, '')
    .split('?')[0]!
    .split('/');
  return { bucket: bucket ?? '', key: key.join('/') };
}

function header(ctx: KoaContext, name: string): string | undefined {
  const value = ctx.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sendError(ctx: KoaContext, status: number, code: string, message: string): void {
  sendXml(ctx, status, `<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`);
}

function sendXml(ctx: KoaContext, status: number, xml: string): void {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
}

async function drain(stream: NodeJS.ReadableStream): Promise<void> {
  for await (const _ of stream as AsyncIterable<unknown>) {
    // discard
  }
}

function unquote(etag: string): string {
  return etag.replace(/"/g, '');
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** S3 lists in UTF-8 byte order. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--dir');
  const server = await S3TestServer.start({ dir: at > 0 ? process.argv[at + 1] : undefined });
  process.stdout.write(JSON.stringify({ url: server.url }) + '\n');
  const stop = (): void => void server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
