// The P2P benchmark's same-run baseline: a plain HTTP server per region serving the build's file
// with the seeder's egress cap (one limiter shared by all its downloads), and that region's
// clients downloading it at once, each capped like an agent's download, hashing as they write.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { RateLimiter } from '../edge-agent/index.ts';

export interface HttpRound {
  seconds: number;
  /** Bytes each server sent. */
  egress: number[];
}

async function serve(file: string, limiter: RateLimiter): Promise<{ url: string; sent: () => number; close: () => Promise<void> }> {
  let sent = 0;
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(fs.statSync(file).size) });
    void (async () => {
      for await (const chunk of fs.createReadStream(file, { highWaterMark: 256 * 1024 })) {
        const bytes = (chunk as Buffer).byteLength;
        await limiter.take(bytes);
        sent += bytes;
        if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
      }
      res.end();
    })().catch((err: Error) => res.destroy(err));
    req.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/artifact`, sent: () => sent, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function download(url: string, to: string, limiter: RateLimiter): Promise<string> {
  const hash = createHash('sha256');
  const out = fs.createWriteStream(to);
  await new Promise<void>((resolve, reject) => {
    http
      .get(url, (res) => {
        void (async () => {
          for await (const chunk of res) {
            await limiter.take((chunk as Buffer).byteLength);
            hash.update(chunk as Buffer);
            if (!out.write(chunk)) await new Promise<void>((drained) => out.once('drain', () => drained()));
          }
          await new Promise<void>((closed, failed) => out.end((err?: Error | null) => (err ? failed(err) : closed())));
        })().then(resolve, reject);
      })
      .once('error', reject);
  });
  return hash.digest('hex');
}

/**
 * One server per entry of `clientsPerServer` (a region), each with that many clients, all at
 * once; resolves when every client has the whole file (its sha256 checked).
 */
export async function httpRound(file: string, digest: string, dir: string, clientsPerServer: number[], caps: { serverUp: number | null; clientDown: number | null }): Promise<HttpRound> {
  fs.mkdirSync(dir, { recursive: true });
  const servers = await Promise.all(clientsPerServer.map(() => serve(file, new RateLimiter(caps.serverUp))));
  try {
    const start = performance.now();
    await Promise.all(
      servers.flatMap((server, s) =>
        Array.from({ length: clientsPerServer[s]! }, async (_, c) => {
          const to = path.join(dir, `client-${s}-${c}`);
          const got = await download(server.url, to, new RateLimiter(caps.clientDown));
          if (got !== digest) throw new Error(`HTTP client ${s}-${c} got sha256 ${got}, expected ${digest}`);
        }),
      ),
    );
    return { seconds: (performance.now() - start) / 1000, egress: servers.map((server) => server.sent()) };
  } finally {
    for (const server of servers) await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
