// A small fake of the GCS JSON API, enough for the real @google-cloud/storage client: buckets
// (insert/get/delete), uploads (media, multipart, resumable with PUT chunks and status queries),
// media download with Range, object get/patch/delete, rewrite and copy, list with prefix,
// delimiter and pagination. Object bytes live on disk (never in memory), so multi-GB objects
// work; metadata lives in memory. Objects are immutable files, so a copy within a bucket is a
// hard link — like GCS, where a same-location rewrite does not move bytes — and a copy to
// another bucket copies the file.
//
// Faults for tests: `failNext` answers the next N matching requests with an error status
// (before or after reading the body), `corruptNextDownloads` flips a byte of the next media
// downloads.
//
// Run alone (benchmarks): `tsx test/support/fake-gcs-server.ts [--dir D]` prints
// `{"url": ...}` on stdout and serves until SIGTERM.
import { createHash, randomUUID, type Hash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

export type FakeRequestKind =
  | 'bucket.insert'
  | 'bucket.get'
  | 'bucket.delete'
  | 'object.get'
  | 'object.patch'
  | 'object.delete'
  | 'object.list'
  | 'object.download'
  | 'object.rewrite'
  | 'object.copy'
  | 'upload.media'
  | 'upload.multipart'
  | 'upload.resumable.start'
  | 'upload.resumable.put'
  | 'unknown';

export interface FakeRequest {
  method: string;
  kind: FakeRequestKind;
  bucket?: string;
  object?: string;
  url: string;
  /** The Range (downloads) or Content-Range (upload chunks) header, if any. */
  range?: string;
  /** Status sent, once answered. */
  status?: number;
}

export interface FakeFailure {
  /** @defaultValue 503 */
  status?: number;
  /** How many matching requests fail. @defaultValue 1 */
  count?: number;
  /** Which requests; all when absent. */
  match?: (request: FakeRequest) => boolean;
  /**
   * Read (and for an upload chunk, persist) the body before failing, as a server that took the
   * bytes and then failed to answer. Otherwise fail at once and discard the body. @defaultValue false
   */
  afterBody?: boolean;
}

interface StoredObject {
  bucket: string;
  name: string;
  generation: number;
  metageneration: number;
  size: number;
  md5: string;
  crc32c: string;
  contentType: string;
  metadata: Record<string, string> | undefined;
  created: Date;
  updated: Date;
  dataPath: string;
}

interface UploadSession {
  id: string;
  bucket: string;
  name: string;
  contentType: string;
  metadata: Record<string, string> | undefined;
  ifGenerationMatch: number | undefined;
  received: Received;
  finalized: StoredObject | undefined;
}

/** The bytes an upload has put on disk so far, and their digests. */
interface Received {
  path: string;
  bytes: number;
  md5: Hash;
  crc: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason = 'invalid',
  ) {
    super(message);
  }
}

export class FakeGcsServer {
  /** Every request seen, in order, for assertions such as "the copy was server-side". */
  readonly requests: FakeRequest[] = [];
  private readonly buckets = new Map<string, { name: string; created: Date; objects: Map<string, StoredObject> }>();
  private readonly sessions = new Map<string, UploadSession>();
  private readonly failures: (Required<Omit<FakeFailure, 'match'>> & Pick<FakeFailure, 'match'>)[] = [];
  private corruptDownloads = 0;
  private truncatedDownloads: number[] = [];
  private corruptUploads = 0;
  private lastGeneration = 0;
  private baseUrl = '';

  private constructor(
    private readonly server: http.Server,
    readonly dir: string,
    private readonly ownsDir: boolean,
  ) {}

  static async start(options: { dir?: string } = {}): Promise<FakeGcsServer> {
    const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-fake-gcs-'));
    fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'uploads'), { recursive: true });
    const server = http.createServer();
    const fake = new FakeGcsServer(server, dir, options.dir === undefined);
    server.on('request', (req, res) => void fake.handle(req, res));
    // Large uploads stream for a long time; the defaults would cut them off.
    server.requestTimeout = 0;
    server.headersTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    fake.baseUrl = `http://127.0.0.1:${port}`;
    return fake;
  }

  /** `http://127.0.0.1:<port>`: give it as STORAGE_EMULATOR_HOST or apiEndpoint. */
  get url(): string {
    return this.baseUrl;
  }

  failNext(failure: FakeFailure = {}): void {
    this.failures.push({ status: failure.status ?? 503, count: failure.count ?? 1, afterBody: failure.afterBody ?? false, match: failure.match });
  }

  corruptNextDownloads(count = 1): void {
    this.corruptDownloads += count;
  }

  /** The next `count` uploads store one byte flipped (the stored crc32c then differs from the client's). */
  corruptNextUploads(count = 1): void {
    this.corruptUploads += count;
  }

  /** The next `count` media downloads send `afterBytes` bytes, then the connection drops. */
  truncateNextDownloads(count: number, afterBytes: number): void {
    for (let i = 0; i < count; i++) this.truncatedDownloads.push(afterBytes);
  }

  /** Every object name in a bucket, including ones a store hides (temporary uploads). */
  objectNames(bucket: string): string[] {
    return [...(this.buckets.get(bucket)?.objects.keys() ?? [])].sort(compareNames);
  }

  /** Resumable sessions not finished yet. */
  get openUploads(): number {
    return [...this.sessions.values()].filter((s) => !s.finalized).length;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.ownsDir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  // ---- routing

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const route = classify(req.method ?? 'GET', url);
    const record: FakeRequest = {
      method: req.method ?? 'GET',
      kind: route.kind,
      bucket: route.bucket,
      object: route.object,
      url: url.pathname + url.search,
      range: header(req, 'range') ?? header(req, 'content-range'),
    };
    this.requests.push(record);
    res.on('finish', () => (record.status = res.statusCode));
    try {
      const failure = this.takeFailure(record);
      if (failure && !failure.afterBody) {
        req.resume();
        throw new HttpError(failure.status, 'injected failure', 'backendError');
      }
      if (failure && route.kind !== 'upload.resumable.put') {
        await drain(req);
        throw new HttpError(failure.status, 'injected failure after the body', 'backendError');
      }
      await this.dispatch(route, url, req, res, failure);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = err instanceof HttpError ? err.status : 500;
      const reason = err instanceof HttpError ? err.reason : 'internalError';
      const message = err instanceof Error ? err.message : String(err);
      // An upload may still be streaming: say so and drop the connection after the answer.
      if (!req.complete) res.setHeader('Connection', 'close');
      sendJson(res, status, { error: { code: status, message, errors: [{ reason, message }] } });
    }
  }

  private takeUploadCorruption(): boolean {
    if (this.corruptUploads === 0) return false;
    this.corruptUploads -= 1;
    return true;
  }

  private takeFailure(request: FakeRequest): { status: number; afterBody: boolean } | undefined {
    const rule = this.failures.find((f) => f.count > 0 && (!f.match || f.match(request)));
    if (!rule) return undefined;
    rule.count -= 1;
    return rule;
  }

  private async dispatch(
    route: Route,
    url: URL,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    failure: { status: number } | undefined,
  ): Promise<void> {
    const q = url.searchParams;
    switch (route.kind) {
      case 'bucket.insert': {
        const body = await readJson(req);
        const name = String(body.name ?? '');
        if (!/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/.test(name)) throw new HttpError(400, `invalid bucket name ${name}`);
        if (this.buckets.has(name)) throw new HttpError(409, `bucket ${name} already exists`, 'conflict');
        this.buckets.set(name, { name, created: new Date(), objects: new Map() });
        return sendJson(res, 200, this.bucketResource(name));
      }
      case 'bucket.get':
        this.bucket(route.bucket!);
        return sendJson(res, 200, this.bucketResource(route.bucket!));
      case 'bucket.delete': {
        const bucket = this.bucket(route.bucket!);
        if (bucket.objects.size > 0) throw new HttpError(409, 'bucket not empty', 'conflict');
        this.buckets.delete(route.bucket!);
        res.writeHead(204).end();
        return;
      }
      case 'object.get':
        return sendJson(res, 200, this.resource(this.object(route.bucket!, route.object!, q)));
      case 'object.patch': {
        const object = this.object(route.bucket!, route.object!, q);
        checkPreconditions(object, q);
        const body = await readJson(req);
        if (body.metadata !== undefined) {
          const merged: Record<string, string> = { ...(object.metadata ?? {}) };
          for (const [key, value] of Object.entries(body.metadata as Record<string, unknown>)) {
            if (value === null) delete merged[key];
            else merged[key] = String(value);
          }
          object.metadata = merged;
        }
        if (typeof body.contentType === 'string') object.contentType = body.contentType;
        object.metageneration += 1;
        object.updated = new Date();
        return sendJson(res, 200, this.resource(object));
      }
      case 'object.delete': {
        const object = this.object(route.bucket!, route.object!, q);
        checkPreconditions(object, q);
        this.bucket(route.bucket!).objects.delete(object.name);
        fs.rmSync(object.dataPath, { force: true });
        res.writeHead(204).end();
        return;
      }
      case 'object.list':
        return sendJson(res, 200, this.list(route.bucket!, q));
      case 'object.download':
        return this.download(this.object(route.bucket!, route.object!, q), req, res);
      case 'object.rewrite':
      case 'object.copy': {
        const source = this.object(route.bucket!, route.object!, q, q.get('sourceGeneration'));
        const body = await readJson(req);
        const dest = this.bucket(route.destBucket!);
        checkPreconditions(dest.objects.get(route.destObject!), q);
        const generation = this.nextGeneration();
        const dataPath = path.join(this.dir, 'data', String(generation));
        // Within a bucket GCS rewrites metadata only; between buckets (other locations, as
        // main and regional buckets are) it moves the bytes. Do the same.
        if (dest.name === source.bucket) await fs.promises.link(source.dataPath, dataPath);
        else await fs.promises.copyFile(source.dataPath, dataPath);
        // As GCS: a body replaces the metadata; without one the source's is kept.
        const hasBody = Object.keys(body).length > 0;
        const now = new Date();
        const copy: StoredObject = {
          ...source,
          bucket: dest.name,
          name: route.destObject!,
          generation,
          metageneration: 1,
          contentType: hasBody ? String(body.contentType ?? source.contentType) : source.contentType,
          metadata: hasBody ? (body.metadata as Record<string, string> | undefined) : source.metadata,
          created: now,
          updated: now,
          dataPath,
        };
        this.store(copy);
        if (route.kind === 'object.copy') return sendJson(res, 200, this.resource(copy));
        return sendJson(res, 200, {
          kind: 'storage#rewriteResponse',
          totalBytesRewritten: String(copy.size),
          objectSize: String(copy.size),
          done: true,
          resource: this.resource(copy),
        });
      }
      case 'upload.media':
      case 'upload.multipart':
        return this.simpleUpload(route, q, req, res);
      case 'upload.resumable.start':
        return this.startResumable(route, q, req, res);
      case 'upload.resumable.put':
        return this.putResumable(q, req, res, failure);
      default:
        throw new HttpError(404, `no such endpoint: ${req.method} ${url.pathname}`, 'notFound');
    }
  }

  // ---- uploads

  private async simpleUpload(route: Route, q: URLSearchParams, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.bucket(route.bucket!);
    const received = newReceived(path.join(this.dir, 'uploads', randomUUID()));
    try {
      const sink = await AppendSink.open(received);
      let resource: Record<string, unknown> = {};
      let contentType = req.headers['content-type'] ?? 'application/octet-stream';
      if (route.kind === 'upload.multipart') {
        const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
        if (!boundary) throw new HttpError(400, 'multipart upload without a boundary');
        const parsed = await parseMultipart(req, boundary, sink, this.takeUploadCorruption());
        resource = parsed.resource;
        contentType = String(resource.contentType ?? parsed.contentType);
      } else {
        await pipeline(req, this.takeUploadCorruption() ? flipByteAt(0) : new PassThrough(), sink);
      }
      const name = q.get('name') ?? (resource.name as string | undefined);
      if (!name) throw new HttpError(400, 'upload without an object name', 'required');
      checkPreconditions(this.buckets.get(route.bucket!)!.objects.get(name), q);
      const object = await this.commitUpload(received, {
        bucket: route.bucket!,
        name,
        contentType,
        metadata: resource.metadata as Record<string, string> | undefined,
        expectedHash: header(req, 'x-goog-hash'),
      });
      sendJson(res, 200, this.resource(object));
    } finally {
      fs.rmSync(received.path, { force: true });
    }
  }

  private async startResumable(route: Route, q: URLSearchParams, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.bucket(route.bucket!);
    const body = await readJson(req);
    const name = q.get('name') ?? (body.name as string | undefined);
    if (!name) throw new HttpError(400, 'resumable upload without an object name', 'required');
    checkPreconditions(this.buckets.get(route.bucket!)!.objects.get(name), q);
    const id = randomUUID();
    const sessionPath = path.join(this.dir, 'uploads', id);
    const ifGenerationMatch = q.get('ifGenerationMatch');
    this.sessions.set(id, {
      id,
      bucket: route.bucket!,
      name,
      contentType: String(body.contentType ?? header(req, 'x-upload-content-type') ?? 'application/octet-stream'),
      metadata: body.metadata as Record<string, string> | undefined,
      ifGenerationMatch: ifGenerationMatch === null ? undefined : Number(ifGenerationMatch),
      received: newReceived(sessionPath),
      finalized: undefined,
    });
    await fs.promises.writeFile(sessionPath, '');
    const location = `${this.baseUrl}/upload/storage/v1/b/${encodeURIComponent(route.bucket!)}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`;
    res.writeHead(200, { Location: location, 'Content-Length': '0' }).end();
  }

  private async putResumable(q: URLSearchParams, req: http.IncomingMessage, res: http.ServerResponse, failure: { status: number } | undefined): Promise<void> {
    const session = this.sessions.get(q.get('upload_id') ?? '');
    if (!session) throw new HttpError(404, 'no such upload session', 'notFound');
    if (session.finalized) {
      await drain(req);
      return sendJson(res, 200, this.resource(session.finalized));
    }
    const range = parseContentRange(header(req, 'content-range'));
    const received = session.received;
    if (range.start !== undefined) {
      if (range.start > received.bytes) throw new HttpError(400, `chunk starts at ${range.start} but only ${received.bytes} bytes were received`);
      // Bytes the client resends that we already hold are skipped, as GCS does. A request that
      // breaks half-way keeps what reached the disk: the client asks for the offset and resumes.
      const corrupt = range.start === 0 && this.takeUploadCorruption();
      await pipeline(req, skipFirst(received.bytes - range.start), corrupt ? flipByteAt(0) : new PassThrough(), await AppendSink.open(received));
    } else {
      await drain(req);
    }
    if (failure) throw new HttpError(failure.status, 'injected failure after the body', 'backendError');
    const complete =
      range.total !== undefined ? received.bytes === range.total : range.start !== undefined && range.end === undefined; // `bytes S-*/*`: this request ends the upload
    if (range.total !== undefined && received.bytes > range.total) {
      throw new HttpError(400, `received ${received.bytes} bytes, more than the declared ${range.total}`);
    }
    if (!complete) {
      const headers: Record<string, string> = { 'Content-Length': '0' };
      if (received.bytes > 0) headers.Range = `bytes=0-${received.bytes - 1}`;
      res.writeHead(308, headers).end();
      return;
    }
    const preconditions = new URLSearchParams();
    if (session.ifGenerationMatch !== undefined) preconditions.set('ifGenerationMatch', String(session.ifGenerationMatch));
    checkPreconditions(this.buckets.get(session.bucket)?.objects.get(session.name), preconditions);
    session.finalized = await this.commitUpload(received, {
      bucket: session.bucket,
      name: session.name,
      contentType: session.contentType,
      metadata: session.metadata,
      expectedHash: header(req, 'x-goog-hash'),
    });
    sendJson(res, 200, this.resource(session.finalized));
  }

  private async commitUpload(
    received: Received,
    upload: { bucket: string; name: string; contentType: string; metadata: Record<string, string> | undefined; expectedHash: string | undefined },
  ): Promise<StoredObject> {
    const md5 = received.md5.digest('base64');
    const crc32c = crcBase64(received.crc);
    for (const part of (upload.expectedHash ?? '').split(',').filter(Boolean)) {
      const [kind, value] = [part.slice(0, part.indexOf('=')).trim(), part.slice(part.indexOf('=') + 1).trim()];
      if ((kind === 'md5' && value !== md5) || (kind === 'crc32c' && value !== crc32c)) {
        throw new HttpError(400, `Provided ${kind} "${value}" doesn't match calculated ${kind}`, 'invalid');
      }
    }
    const generation = this.nextGeneration();
    const dataPath = path.join(this.dir, 'data', String(generation));
    await fs.promises.rename(received.path, dataPath);
    const now = new Date();
    const object: StoredObject = {
      bucket: upload.bucket,
      name: upload.name,
      generation,
      metageneration: 1,
      size: received.bytes,
      md5,
      crc32c,
      contentType: upload.contentType,
      metadata: upload.metadata,
      created: now,
      updated: now,
      dataPath,
    };
    this.store(object);
    return object;
  }

  private store(object: StoredObject): void {
    const objects = this.bucket(object.bucket).objects;
    const previous = objects.get(object.name);
    objects.set(object.name, object);
    if (previous) fs.rmSync(previous.dataPath, { force: true });
  }

  // ---- reads

  private async download(object: StoredObject, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let start = 0;
    let end = object.size - 1;
    let partial = false;
    const rangeHeader = header(req, 'range');
    if (rangeHeader) {
      const match = /^bytes=(\d*)-(\d*)$/.exec(rangeHeader.trim());
      if (!match || (match[1] === '' && match[2] === '')) throw new HttpError(400, `bad Range ${rangeHeader}`);
      if (match[1] === '') {
        start = Math.max(0, object.size - Number(match[2]));
      } else {
        start = Number(match[1]);
        if (match[2] !== '') end = Math.min(end, Number(match[2]));
      }
      if (start >= object.size || end < start) {
        res.setHeader('Content-Range', `bytes */${object.size}`);
        throw new HttpError(416, 'The requested range cannot be satisfied.', 'requestedRangeNotSatisfiable');
      }
      partial = true;
    }
    const headers: Record<string, string> = {
      'Content-Type': object.contentType,
      'Content-Length': String(end - start + 1),
      'Accept-Ranges': 'bytes',
      'X-Goog-Generation': String(object.generation),
      'X-Goog-Metageneration': String(object.metageneration),
      'X-Goog-Stored-Content-Encoding': 'identity',
      'X-Goog-Stored-Content-Length': String(object.size),
      ETag: etag(object),
    };
    if (partial) headers['Content-Range'] = `bytes ${start}-${end}/${object.size}`;
    else headers['X-Goog-Hash'] = `crc32c=${object.crc32c},md5=${object.md5}`;
    res.writeHead(partial ? 206 : 200, headers);
    if (object.size === 0) {
      res.end();
      return;
    }
    const cutAfter = this.truncatedDownloads.shift();
    if (cutAfter !== undefined && cutAfter < end - start + 1) {
      // Send part of the body, then drop the connection, as a broken network does.
      res.flushHeaders();
      if (cutAfter > 0) {
        const part = fs.createReadStream(object.dataPath, { start, end: start + cutAfter - 1, highWaterMark: 1 << 20 });
        await pipeline(part, res, { end: false }).catch(() => undefined);
      }
      // Let the bytes leave before the reset.
      await new Promise((resolve) => setTimeout(resolve, 20));
      res.destroy();
      return;
    }
    const file = fs.createReadStream(object.dataPath, { start, end, highWaterMark: 1 << 20 });
    const corrupt = this.corruptDownloads > 0;
    if (corrupt) this.corruptDownloads -= 1;
    const sent = corrupt ? pipeline(file, flipByteAt(Math.floor((end - start) / 2)), res) : pipeline(file, res);
    await sent.catch(() => res.destroy());
  }

  private list(bucketName: string, q: URLSearchParams): Record<string, unknown> {
    const bucket = this.bucket(bucketName);
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const maxResults = Math.min(Math.max(Number(q.get('maxResults') ?? 1000) || 1000, 1), 1000);
    const after = q.get('pageToken') ? Buffer.from(q.get('pageToken')!, 'base64url').toString() : undefined;
    const names = [...bucket.objects.keys()].filter((n) => n.startsWith(prefix)).sort(compareNames);
    const items: Record<string, unknown>[] = [];
    const prefixes = new Set<string>();
    let last: string | undefined;
    let more = false;
    for (const name of names) {
      if (after !== undefined && compareNames(name, after) <= 0) continue;
      if (items.length + prefixes.size >= maxResults) {
        more = true;
        break;
      }
      const cut = delimiter ? name.indexOf(delimiter, prefix.length) : -1;
      if (cut >= 0) {
        const common = name.slice(0, cut + delimiter.length);
        if (!prefixes.has(common)) prefixes.add(common);
      } else {
        items.push(this.resource(bucket.objects.get(name)!));
      }
      last = name;
    }
    const page: Record<string, unknown> = { kind: 'storage#objects' };
    if (items.length) page.items = items;
    if (prefixes.size) page.prefixes = [...prefixes];
    if (more && last !== undefined) page.nextPageToken = Buffer.from(last).toString('base64url');
    return page;
  }

  // ---- helpers

  private bucket(name: string): { name: string; created: Date; objects: Map<string, StoredObject> } {
    const bucket = this.buckets.get(name);
    if (!bucket) throw new HttpError(404, `The specified bucket does not exist: ${name}`, 'notFound');
    return bucket;
  }

  private object(bucket: string, name: string, q: URLSearchParams, generation = q.get('generation')): StoredObject {
    const object = this.bucket(bucket).objects.get(name);
    if (!object || (generation !== null && generation !== String(object.generation))) {
      throw new HttpError(404, `No such object: ${bucket}/${name}`, 'notFound');
    }
    return object;
  }

  private nextGeneration(): number {
    this.lastGeneration = Math.max(this.lastGeneration + 1, Date.now() * 1000);
    return this.lastGeneration;
  }

  private bucketResource(name: string): Record<string, unknown> {
    const bucket = this.bucket(name);
    return {
      kind: 'storage#bucket',
      id: name,
      name,
      projectNumber: '0',
      metageneration: '1',
      location: 'US',
      storageClass: 'STANDARD',
      timeCreated: bucket.created.toISOString(),
      updated: bucket.created.toISOString(),
    };
  }

  private resource(o: StoredObject): Record<string, unknown> {
    const encoded = encodeURIComponent(o.name);
    const resource: Record<string, unknown> = {
      kind: 'storage#object',
      id: `${o.bucket}/${o.name}/${o.generation}`,
      selfLink: `${this.baseUrl}/storage/v1/b/${o.bucket}/o/${encoded}`,
      mediaLink: `${this.baseUrl}/download/storage/v1/b/${o.bucket}/o/${encoded}?generation=${o.generation}&alt=media`,
      name: o.name,
      bucket: o.bucket,
      generation: String(o.generation),
      metageneration: String(o.metageneration),
      contentType: o.contentType,
      storageClass: 'STANDARD',
      size: String(o.size),
      md5Hash: o.md5,
      crc32c: o.crc32c,
      etag: etag(o),
      timeCreated: o.created.toISOString(),
      updated: o.updated.toISOString(),
    };
    if (o.metadata && Object.keys(o.metadata).length > 0) resource.metadata = o.metadata;
    return resource;
  }
}

// ---- request parsing

interface Route {
  kind: FakeRequestKind;
  bucket?: string;
  object?: string;
  destBucket?: string;
  destObject?: string;
}

function classify(method: string, url: URL): Route {
  // Segments are decoded one by one: object names arrive with "/" as %2F.
  const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const q = url.searchParams;
  if (segments[0] === 'upload' && segments[1] === 'storage' && segments[2] === 'v1' && segments[3] === 'b' && segments[5] === 'o') {
    const bucket = segments[4]!;
    if (method === 'PUT' || (method === 'POST' && q.has('upload_id'))) return { kind: 'upload.resumable.put', bucket };
    const type = q.get('uploadType');
    if (type === 'resumable') return { kind: 'upload.resumable.start', bucket };
    return { kind: type === 'multipart' ? 'upload.multipart' : 'upload.media', bucket };
  }
  if (segments[0] === 'download' && segments[1] === 'storage' && segments[2] === 'v1') {
    return { kind: 'object.download', bucket: segments[4], object: segments[6] };
  }
  // The client calls `/storage/v1/b/...`, or `/b/...` when STORAGE_EMULATOR_HOST has no path.
  const rest = segments[0] === 'storage' && segments[1] === 'v1' ? segments.slice(2) : segments;
  if (rest[0] !== 'b') return { kind: 'unknown' };
  if (rest.length === 1) return method === 'POST' ? { kind: 'bucket.insert' } : { kind: 'unknown' };
  const bucket = rest[1]!;
  if (rest.length === 2) {
    if (method === 'GET') return { kind: 'bucket.get', bucket };
    if (method === 'DELETE') return { kind: 'bucket.delete', bucket };
    return { kind: 'unknown', bucket };
  }
  if (rest[2] !== 'o') return { kind: 'unknown', bucket };
  if (rest.length === 3) return { kind: method === 'GET' ? 'object.list' : 'unknown', bucket };
  const object = rest[3]!;
  if (rest.length === 4) {
    if (method === 'GET') return { kind: q.get('alt') === 'media' ? 'object.download' : 'object.get', bucket, object };
    if (method === 'PATCH' || method === 'PUT') return { kind: 'object.patch', bucket, object };
    if (method === 'DELETE') return { kind: 'object.delete', bucket, object };
  }
  if (rest.length === 9 && method === 'POST' && (rest[4] === 'rewriteTo' || rest[4] === 'copyTo') && rest[5] === 'b' && rest[7] === 'o') {
    return { kind: rest[4] === 'rewriteTo' ? 'object.rewrite' : 'object.copy', bucket, object, destBucket: rest[6], destObject: rest[8] };
  }
  return { kind: 'unknown', bucket, object };
}

function parseContentRange(value: string | undefined): { start?: number; end?: number; total?: number } {
  // `bytes 0-1023/4096`, `bytes 0-*/*` (streaming to the end), `bytes */4096` or `bytes */*` (status query).
  const match = /^bytes (?:\*|(\d+)-(\d+|\*))\/(\d+|\*)$/.exec((value ?? '').trim());
  if (!match) throw new HttpError(400, `bad Content-Range ${JSON.stringify(value)}`);
  return {
    start: match[1] === undefined ? undefined : Number(match[1]),
    end: match[2] === undefined || match[2] === '*' ? undefined : Number(match[2]),
    total: match[3] === '*' ? undefined : Number(match[3]),
  };
}

function checkPreconditions(current: StoredObject | undefined, q: URLSearchParams): void {
  const generation = q.get('ifGenerationMatch');
  if (generation !== null && String(current?.generation ?? 0) !== generation) {
    throw new HttpError(412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet');
  }
  const metageneration = q.get('ifMetagenerationMatch');
  if (metageneration !== null && String(current?.metageneration ?? 0) !== metageneration) {
    throw new HttpError(412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet');
  }
}

/** Streams the media part of a `multipart/related` upload into `sink`; returns the JSON part. */
async function parseMultipart(
  req: http.IncomingMessage,
  boundary: string,
  sink: AppendSink,
  corrupt: boolean,
): Promise<{ resource: Record<string, unknown>; contentType: string }> {
  const chunks = req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let buffer: Buffer = Buffer.alloc(0);
  const fill = async (): Promise<void> => {
    const next = await chunks.next();
    if (next.done) throw new HttpError(400, 'multipart body ended early');
    buffer = buffer.length ? Buffer.concat([buffer, next.value]) : next.value;
  };
  const readUntil = async (marker: string): Promise<Buffer> => {
    const needle = Buffer.from(marker);
    let at: number;
    while ((at = buffer.indexOf(needle)) < 0) {
      if (buffer.length > 1 << 20) throw new HttpError(400, 'multipart part header or metadata too large');
      await fill();
    }
    const head = buffer.subarray(0, at);
    buffer = buffer.subarray(at + needle.length);
    return head;
  };
  await readUntil(`--${boundary}\r\n`);
  await readUntil('\r\n\r\n');
  const resource = JSON.parse((await readUntil(`\r\n--${boundary}\r\n`)).toString() || '{}') as Record<string, unknown>;
  const mediaHeaders = (await readUntil('\r\n\r\n')).toString();
  const contentType = /content-type:\s*([^\r\n]+)/i.exec(mediaHeaders)?.[1] ?? 'application/octet-stream';
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  let first = true;
  const append = async (bytes: Buffer): Promise<void> => {
    if (first && corrupt && bytes.length > 0) {
      bytes = Buffer.from(bytes);
      bytes[0] = bytes[0]! ^ 0xff;
    }
    if (bytes.length > 0) first = false;
    await sink.append(bytes);
  };
  for (;;) {
    const at = buffer.indexOf(delimiter);
    if (at >= 0) {
      await append(buffer.subarray(0, at));
      break;
    }
    // Keep the tail that might be the start of the delimiter.
    const keep = delimiter.length - 1;
    if (buffer.length > keep) {
      await append(buffer.subarray(0, buffer.length - keep));
      buffer = Buffer.from(buffer.subarray(buffer.length - keep));
    }
    await fill();
  }
  for (let next = await chunks.next(); !next.done; next = await chunks.next());
  await sink.finish();
  return { resource, contentType };
}

// ---- streams

function newReceived(file: string): Received {
  return { path: file, bytes: 0, md5: createHash('md5'), crc: 0 };
}

/**
 * Appends to an upload's file and hashes (md5, crc32c) exactly the bytes that reached it, so a
 * resumable session whose request broke half-way still knows the digest of what it holds.
 */
class AppendSink extends Writable {
  private fd: number | undefined;

  private constructor(
    private readonly received: Received,
    fd: number,
  ) {
    super({ highWaterMark: 1 << 20 });
    this.fd = fd;
  }

  static async open(received: Received): Promise<AppendSink> {
    const fd = await new Promise<number>((resolve, reject) => fs.open(received.path, 'a', (err, fd) => (err ? reject(err) : resolve(fd))));
    return new AppendSink(received, fd);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    const buffers = chunks.map((c) => c.chunk);
    fs.writev(this.fd!, buffers, (err) => {
      if (err) return callback(err);
      for (const b of buffers) {
        this.received.md5.update(b);
        this.received.crc = crc32c(this.received.crc, b);
        this.received.bytes += b.length;
      }
      callback();
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this._writev([{ chunk }], callback);
  }

  /** Writes outside a pipeline, waiting for the file to take the bytes. */
  append(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.write(chunk, (err) => (err ? reject(err) : resolve())));
  }

  /** Waits for pending writes, then closes the file. */
  finish(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.once('error', reject);
      this.end(() => resolve());
    });
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.closeFd(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.closeFd(() => callback(error));
  }

  private closeFd(callback: (error?: Error | null) => void): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd === undefined) return callback();
    fs.close(fd, (err) => callback(err));
  }
}

function crcBase64(crc: number): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc >>> 0);
  return out.toString('base64');
}

function skipFirst(bytes: number): Transform {
  let left = bytes;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (left >= chunk.length) {
        left -= chunk.length;
        return callback();
      }
      const rest = chunk.subarray(left);
      left = 0;
      callback(null, rest);
    },
  });
}

function flipByteAt(offset: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (offset >= seen && offset < seen + chunk.length) {
        chunk = Buffer.from(chunk);
        chunk[offset - seen] = chunk[offset - seen]! ^ 0xff;
      }
      seen += chunk.length;
      callback(null, chunk);
    },
  });
}

async function drain(req: http.IncomingMessage): Promise<void> {
  for await (const _ of req);
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 1 << 20) throw new HttpError(400, 'JSON body too large');
    parts.push(chunk);
  }
  const text = Buffer.concat(parts).toString().trim();
  if (!text) return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new HttpError(400, 'body is not JSON', 'parseError');
  }
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=UTF-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function etag(o: StoredObject): string {
  return `"${o.generation.toString(16)}-${o.metageneration}"`;
}

/** GCS lists in UTF-8 byte order. */
function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

// CRC32C (slice-by-16), written out here rather than imported from blobstore/ so that the
// fake checks the store's digests with code of its own.
const crcTable = (() => {
  const t = new Int32Array(16 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) for (let s = 1; s < 16; s++) t[s * 256 + i] = (t[(s - 1) * 256 + i]! >>> 8) ^ t[t[(s - 1) * 256 + i]! & 0xff]!;
  return t;
})();

function crc32c(crc: number, data: Buffer): number {
  const t = crcTable;
  let c = ~crc;
  let i = 0;
  for (; i + 16 <= data.length; i += 16) {
    const a = c ^ data.readInt32LE(i);
    const b = data.readInt32LE(i + 4);
    const d = data.readInt32LE(i + 8);
    const e = data.readInt32LE(i + 12);
    c =
      t[3840 + (a & 0xff)]! ^ t[3584 + ((a >>> 8) & 0xff)]! ^ t[3328 + ((a >>> 16) & 0xff)]! ^ t[3072 + (a >>> 24)]! ^
      t[2816 + (b & 0xff)]! ^ t[2560 + ((b >>> 8) & 0xff)]! ^ t[2304 + ((b >>> 16) & 0xff)]! ^ t[2048 + (b >>> 24)]! ^
      t[1792 + (d & 0xff)]! ^ t[1536 + ((d >>> 8) & 0xff)]! ^ t[1280 + ((d >>> 16) & 0xff)]! ^ t[1024 + (d >>> 24)]! ^
      t[768 + (e & 0xff)]! ^ t[512 + ((e >>> 8) & 0xff)]! ^ t[256 + ((e >>> 16) & 0xff)]! ^ t[e >>> 24]!;
  }
  for (; i < data.length; i++) c = (c >>> 8) ^ t[(c ^ data[i]!) & 0xff]!;
  return ~c >>> 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--dir');
  const fake = await FakeGcsServer.start({ dir: at > 0 ? process.argv[at + 1] : undefined });
  process.stdout.write(JSON.stringify({ url: fake.url }) + '\n');
  const stop = (): void => void fake.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
