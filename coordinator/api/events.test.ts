import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { dialects } from '../../test/support/databases.ts';
import { startTestCoordinator, type TestCoordinator } from '../../test/support/coordinator.ts';
import type { Build } from '../../queue/index.ts';
import type { BuildLogSource } from './build-log-source.ts';
import type { ServerMessage } from './events/messages.ts';

const commitA = 'a'.repeat(40);
const digest = 'd'.repeat(64);

/** A log that grows while a test appends to it. */
class GrowingLog implements BuildLogSource {
  text = '';
  async read(_build: Build, offset: number) {
    const chunk = this.text.slice(offset);
    return { text: chunk, nextOffset: offset + chunk.length };
  }
}

/** A WebSocket client that keeps every message, and waits for the ones a test expects. */
class Listener {
  readonly messages: ServerMessage[] = [];
  private wake: (() => void) | null = null;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()) as ServerMessage);
      this.wake?.();
    });
  }

  static open(url: string, token: string): Promise<Listener> {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/events`, { headers: { authorization: `Bearer ${token}` } });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new Listener(socket)));
      socket.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  async waitFor(match: (message: ServerMessage) => boolean, timeoutMs = 5_000): Promise<ServerMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching message; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 100);
      });
    }
  }

  close(): void {
    this.socket.close();
  }
}

const buildWith = (status: string) => (m: ServerMessage) => m.type === 'build' && m.build.status === status;

describe.each(dialects)('GET /v1/events on %s', (dialect) => {
  let c: TestCoordinator;
  let log: GrowingLog;
  let listener: Listener | undefined;

  const readToken = 'events-test-read-token-0123456789';
  const webReadToken = 'events-test-web-read-token-01234';
  let permissionsDir: string;

  beforeEach(async () => {
    log = new GrowingLog();
    permissionsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-events-'));
    const permissions = path.join(permissionsDir, 'permissions.json');
    fs.writeFileSync(
      permissions,
      JSON.stringify({ tokens: [{ name: 'reader', token: readToken, scopes: ['read'] }, { name: 'web-reader', token: webReadToken, scopes: ['read'], services: ['web'] }] }),
    );
    c = await startTestCoordinator(dialect, { overrides: { buildLogs: log }, env: { FLEETCAST_PERMISSIONS: permissions } });
    await c.handle.services.add({ name: 'api', repo: '/srv/git/api', buildCommand: 'make', artifactPath: 'out/api' });
  });

  afterEach(async () => {
    listener?.close();
    listener = undefined;
    await c.stop();
    fs.rmSync(permissionsDir, { recursive: true, force: true });
  });

  it('refuses log subscriptions to a read token (logs may show what a build saw), not build ones', async () => {
    const build = await c.handle.queue.enqueue({ service: 'api', commit: commitA });
    log.text = 'secret-ish build output\n';
    listener = await Listener.open(c.url, readToken);
    listener.send({ subscribe: 'log', id: `b${build.id}`, offset: 0 });
    const refused = await listener.waitFor((m) => m.type === 'error');
    expect(refused).toMatchObject({ type: 'error', error: { code: 'FORBIDDEN', message: expect.stringContaining('needs scope build') } });
    listener.send({ subscribe: 'build', id: `b${build.id}` });
    await listener.waitFor(buildWith('QUEUED'));
    expect(listener.messages.some((m) => m.type === 'log')).toBe(false);
  });

  it('sends a subscribed build at once and whenever its row changes, until it is final', async () => {
    const build = await c.handle.queue.enqueue({ service: 'api', commit: commitA });
    listener = await Listener.open(c.url, c.token);
    listener.send({ subscribe: 'build', id: `b${build.id}` });
    const first = await listener.waitFor(buildWith('QUEUED'));
    expect(first).toMatchObject({ type: 'build', build: { id: `b${build.id}`, status: 'QUEUED', attempts: 0 } });

    const { claim } = (await c.handle.queue.claim('worker-1'))!;
    expect(await listener.waitFor(buildWith('RUNNING'))).toMatchObject({ build: { claimedBy: 'worker-1', attempts: 1 } });

    // Heartbeats alone are not news.
    await c.handle.queue.heartbeat(claim);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(listener.messages).toHaveLength(2);

    await c.handle.queue.succeed(claim, { digest, size: 42 });
    const done = await listener.waitFor(buildWith('SUCCEEDED'));
    expect(done).toMatchObject({ build: { digest, size: 42, durationMs: expect.any(Number) } });
    expect(listener.messages.map((m) => m.type === 'build' && m.build.status)).toEqual(['QUEUED', 'RUNNING', 'SUCCEEDED']);
  });

  it('streams a log as it grows and ends it once the build is final', async () => {
    const build = await c.handle.queue.enqueue({ service: 'api', commit: commitA });
    log.text = 'step 1\n';
    listener = await Listener.open(c.url, c.token);
    listener.send({ subscribe: 'log', id: String(build.id), offset: 0 });
    expect(await listener.waitFor((m) => m.type === 'log')).toEqual({ type: 'log', id: `b${build.id}`, text: 'step 1\n', nextOffset: 7 });

    log.text += 'step 2\n';
    await listener.waitFor((m) => m.type === 'log' && m.nextOffset === 14);
    // Whoever ends a build writes its last log lines first (see BuildLogSource).
    log.text += 'killed\n';
    await c.handle.queue.cancel(build.id, 'test');
    expect(await listener.waitFor((m) => m.type === 'log-end')).toEqual({ type: 'log-end', id: `b${build.id}`, nextOffset: 21 });
    const text = listener.messages.map((m) => (m.type === 'log' ? m.text : '')).join('');
    expect(text).toBe('step 1\nstep 2\nkilled\n');
  });

  it('starts a log subscription at the offset given', async () => {
    const build = await c.handle.queue.enqueue({ service: 'api', commit: commitA });
    await c.handle.queue.cancel(build.id, 'test');
    log.text = 'abcdef';
    listener = await Listener.open(c.url, c.token);
    listener.send({ subscribe: 'log', id: `b${build.id}`, offset: 4 });
    await listener.waitFor((m) => m.type === 'log-end');
    expect(listener.messages).toEqual([
      { type: 'log', id: `b${build.id}`, text: 'ef', nextOffset: 6 },
      { type: 'log-end', id: `b${build.id}`, nextOffset: 6 },
    ]);
  });

  it('refuses a status subscription to a service the token may not watch, and to an unknown service', async () => {
    listener = await Listener.open(c.url, webReadToken);
    listener.send({ subscribe: 'status', service: 'api' });
    expect(await listener.waitFor((m) => m.type === 'error' && m.id === 'api')).toMatchObject({ error: { code: 'FORBIDDEN', message: expect.stringContaining('may not watch service api') } });
    listener.close();
    listener = await Listener.open(c.url, readToken);
    listener.send({ subscribe: 'status', service: 'nope' });
    listener.send({ subscribe: 'status', service: 'Not A Name' });
    await listener.waitFor((m) => m.type === 'error' && m.id === 'nope');
    expect(listener.messages.filter((m) => m.type === 'error').map((m) => m.type === 'error' && m.error.code).sort()).toEqual(['INVALID_INPUT', 'NOT_FOUND']);
    listener.send({ unsubscribe: 'status', service: 'nope' });
    expect(listener.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('answers bad messages and unknown builds with errors, keeping the connection', async () => {
    listener = await Listener.open(c.url, c.token);
    listener.send('not json');
    listener.send({ subscribe: 'everything' });
    listener.send({ subscribe: 'build', id: 'b999999' });
    await listener.waitFor((m) => m.type === 'error' && m.id === 'b999999');
    const errors = listener.messages.filter((m) => m.type === 'error');
    expect(errors.map((m) => m.type === 'error' && m.error.code)).toEqual(['INVALID_INPUT', 'INVALID_INPUT', 'NOT_FOUND']);
    expect(listener.socket.readyState).toBe(WebSocket.OPEN);
  });
});

describe('GET /v1/events authentication', () => {
  let c: TestCoordinator;

  beforeEach(async () => {
    c = await startTestCoordinator('sqlite');
  });

  afterEach(async () => {
    await c.stop();
  });

  function refusal(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { headers });
      socket.on('unexpected-response', (_request, response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      socket.on('open', () => reject(new Error('the connection was accepted')));
      socket.on('error', () => undefined);
    });
  }

  it('refuses the upgrade without a valid token', async () => {
    const ws = c.url.replace(/^http/, 'ws');
    const none = await refusal(`${ws}/v1/events`);
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body).error.code).toBe('UNAUTHORIZED');
    expect((await refusal(`${ws}/v1/events`, { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await refusal(`${ws}/v1/elsewhere?token=${c.token}`)).status).toBe(404);
  });

  it('accepts the token as ?token= too', async () => {
    const listener = await new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(`${c.url.replace(/^http/, 'ws')}/v1/events?token=${c.token}`);
      socket.once('open', () => resolve(socket));
      socket.once('error', reject);
    });
    listener.close();
  });
});
