import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../logging/index.ts';
import { loadCoordinatorConfig, runCoordinator } from '../index.ts';
import { dialects } from '../../test/support/databases.ts';
import { serviceBody, startTestCoordinator, type TestCoordinator } from '../../test/support/coordinator.ts';
import { normalizeRepo, servicesForPush, type PushEvent } from './webhook/push-event.ts';
import { signBody } from './webhook/signature.ts';
import { declaredSizeAnswer } from '../../test/support/early-answer.ts';

const secret = 'webhook-secret-for-tests';
const sha = 'c0ffee'.padEnd(40, '1');

function push(overrides: Partial<PushEvent> = {}): PushEvent {
  return {
    ref: 'refs/heads/main',
    after: sha,
    repository: {
      clone_url: 'https://github.com/acme/api.git',
      html_url: 'https://github.com/acme/api',
      ssh_url: 'git@github.com:acme/api.git',
    },
    ...overrides,
  };
}

describe('push matching', () => {
  it('spells a repository one way', () => {
    expect(normalizeRepo('https://GitHub.com/Acme/API.git/')).toBe('https://github.com/acme/api');
    expect(normalizeRepo('git@github.com:acme/api.git')).toBe('git@github.com:acme/api');
    expect(normalizeRepo('file:///srv/git/Api.git')).toBe('/srv/git/Api');
    expect(normalizeRepo('/srv/git/Api/')).toBe('/srv/git/Api');
  });

  it('matches services by repository address and branch', () => {
    const base = { buildCommand: 'make', artifactPath: 'out/x', runCommand: null, healthUrl: null, buildNetwork: true, buildEnv: {}, metricGate: null, wavePlan: null, autoRollback: null, createdAt: new Date() };
    const services = [
      { ...base, name: 'api', repo: 'https://github.com/acme/api', branch: 'main' },
      { ...base, name: 'api-ssh', repo: 'git@github.com:acme/api.git', branch: 'main' },
      { ...base, name: 'api-release', repo: 'https://github.com/acme/api.git', branch: 'release' },
      { ...base, name: 'web', repo: 'https://github.com/acme/web', branch: 'main' },
    ];
    expect(servicesForPush(services, push()).map((s) => s.name)).toEqual(['api', 'api-ssh']);
    expect(servicesForPush(services, push({ ref: 'refs/heads/release' })).map((s) => s.name)).toEqual(['api-release']);
    expect(servicesForPush(services, push({ ref: 'refs/tags/main' }))).toEqual([]);
  });

});

describe.each(dialects)('POST /v1/hooks/git on %s', (dialect) => {
  let c: TestCoordinator;

  beforeEach(async () => {
    c = await startTestCoordinator(dialect, { env: { FLEETCAST_WEBHOOK_SECRET: secret } });
    await c.request('POST', '/v1/services', { body: serviceBody('api', { repo: 'https://github.com/acme/api' }) });
    await c.request('POST', '/v1/services', { body: serviceBody('api-worker', { repo: 'git@github.com:acme/api.git' }) });
    await c.request('POST', '/v1/services', { body: serviceBody('api-canary', { repo: 'https://github.com/acme/api', branch: 'canary' }) });
    await c.request('POST', '/v1/services', { body: serviceBody('web', { repo: 'https://github.com/acme/web' }) });
  });

  afterEach(async () => {
    await c.stop();
  });

  function deliver(event: unknown, headers: Record<string, string> = {}, signWith = secret) {
    const body = typeof event === 'string' ? event : JSON.stringify(event);
    return c.request('POST', '/v1/hooks/git', {
      token: null,
      body,
      headers: { 'x-hub-signature-256': signBody(signWith, Buffer.from(body)), 'x-github-event': 'push', ...headers },
    });
  }

  it('queues a build of the pushed commit for each service of that repository and branch', async () => {
    const res = await deliver(push(), { 'x-github-delivery': 'delivery-1' });
    expect(res.status).toBe(202);
    expect(res.json.builds.map((b: { service: string }) => b.service).sort()).toEqual(['api', 'api-worker']);
    for (const build of res.json.builds) expect(build).toMatchObject({ commit: sha, status: 'QUEUED', requestedBy: 'webhook' });
    const listed = await c.request('GET', '/v1/builds');
    expect(listed.json.builds).toHaveLength(2);
  });

  it('verifies the signature over the raw bytes, whitespace and all', async () => {
    const raw = `{ "ref": "refs/heads/canary",\n  "after": "${sha}", "repository": { "html_url": "https://github.com/acme/api" } }`;
    const res = await deliver(raw);
    expect(res.status).toBe(202);
    expect(res.json.builds.map((b: { service: string }) => b.service)).toEqual(['api-canary']);
  });

  it('answers 401 to a missing or wrong signature and queues nothing', async () => {
    const body = JSON.stringify(push());
    const unsigned = await c.request('POST', '/v1/hooks/git', { token: null, body });
    expect(unsigned.status).toBe(401);
    expect(unsigned.json.error.code).toBe('UNAUTHORIZED');
    expect((await deliver(push(), {}, 'another-secret-entirely')).status).toBe(401);
    const tampered = await c.request('POST', '/v1/hooks/git', {
      token: null,
      body: body.replace('main', 'canary'),
      headers: { 'x-hub-signature-256': signBody(secret, Buffer.from(body)) },
    });
    expect(tampered.status).toBe(401);
    expect((await deliver(push(), { 'x-hub-signature-256': 'sha256=zz' })).status).toBe(401);
    expect((await c.request('GET', '/v1/builds')).json.builds).toEqual([]);
  });

  it('does not queue twice for a redelivery, and answers with the same builds', async () => {
    const first = await deliver(push(), { 'x-github-delivery': 'delivery-2' });
    // The first build has finished: only the delivery id stops a second build of the same commit.
    const claimed = await c.handle.queue.claim('w1');
    await c.handle.queue.fail(claimed!.claim, 'broken');
    const again = await deliver(push(), { 'x-github-delivery': 'delivery-2' });
    expect(again.status).toBe(202);
    expect(again.json.replay).toBe(true);
    expect(again.json.builds.map((b: { id: string }) => b.id)).toEqual(first.json.builds.map((b: { id: string }) => b.id));
    expect((await c.request('GET', '/v1/builds')).json.builds).toHaveLength(2);

    // A new delivery of the same commit (one build FAILED, one QUEUED): the commit has builds, nothing is queued.
    const other = await deliver(push(), { 'x-github-delivery': 'delivery-3' });
    expect(other.json.replay).toBeUndefined();
    expect(other.json.builds.map((b: { id: string }) => b.id).sort()).toEqual(first.json.builds.map((b: { id: string }) => b.id).sort());
    expect((await c.request('GET', '/v1/builds')).json.builds).toHaveLength(2);
    // A person can still build it again on purpose.
    expect((await c.request('POST', '/v1/builds', { body: { service: 'api', commit: sha } })).status).toBe(201);
  });

  it('forgets a delivery whose work failed, so its retry runs', async () => {
    await c.handle.db.execute(`ALTER TABLE services RENAME TO services_gone`);
    expect((await deliver(push(), { 'x-github-delivery': 'delivery-4' })).status).toBeGreaterThanOrEqual(500);
    await c.handle.db.execute(`ALTER TABLE services_gone RENAME TO services`);
    expect(await c.handle.db.query(`SELECT id FROM webhook_deliveries WHERE id = 'delivery-4'`)).toEqual([]);
  });

  it('reads at most FLEETCAST_WEBHOOK_MAX_BODY (1 MiB) before the signature: a 20 MB unsigned post is refused', async () => {
    // 20 MB declared, headers only: the answer comes before any byte of the body is read.
    const reply = await declaredSizeAnswer(`${c.url}/v1/hooks/git`, { headers: { 'content-type': 'application/json' }, declaredBytes: 20 * 1024 * 1024 });
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body).error.message).toMatch(/larger than 1(\.0)? ?Mi?B \(FLEETCAST_WEBHOOK_MAX_BODY\)/);
    // Without a Content-Length (chunked), the count stops it just the same.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new Uint8Array(1024 * 1024).fill(0x20));
        controller.close();
      },
    });
    const chunked = await fetch(`${c.url}/v1/hooks/git`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chunks, duplex: 'half' } as RequestInit).catch((err: Error) => err);
    if (!(chunked instanceof Error)) expect(chunked.status).toBe(413);
    expect((await c.request('GET', '/v1/builds')).json.builds).toEqual([]);
  });

  it('ignores branch deletions and events other than push', async () => {
    const deleted = await deliver(push({ after: '0'.repeat(40), deleted: true }));
    expect(deleted.status).toBe(202);
    expect(deleted.json).toMatchObject({ builds: [], ignored: 'refs/heads/main was deleted' });
    const ping = await deliver({ zen: 'Keep it logically awesome.', hook_id: 1 }, { 'x-github-event': 'ping' });
    expect(ping.json).toEqual({ builds: [], ignored: 'ping event' });
    expect((await c.request('GET', '/v1/builds')).json.builds).toEqual([]);
  });

  it('refuses a signed body that is not a push event', async () => {
    const res = await deliver({ ref: 'refs/heads/main' });
    expect(res.status).toBe(400);
    expect(res.json.error.details.problems.join(' ')).toMatch(/after/);
    expect((await deliver('not json')).status).toBe(400);
  });
});

describe('POST /v1/hooks/git without a secret', () => {
  it('answers 404 saying how to turn it on', async () => {
    const c = await startTestCoordinator('sqlite');
    try {
      const body = JSON.stringify(push());
      const res = await c.request('POST', '/v1/hooks/git', { token: null, body, headers: { 'x-hub-signature-256': signBody(secret, Buffer.from(body)) } });
      expect(res.status).toBe(404);
      expect(res.json.error).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('FLEETCAST_WEBHOOK_SECRET') });
    } finally {
      await c.stop();
    }
  });
});

describe('webhook deliveries across a coordinator restart', () => {
  it('remembers delivery ids in SQL: the same signed push queues nothing new after a restart', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-hook-restart-'));
    const config = loadCoordinatorConfig({ env: { FLEETCAST_DATA_DIR: dir, FLEETCAST_LISTEN: '127.0.0.1:0', FLEETCAST_WEBHOOK_SECRET: secret } });
    const body = JSON.stringify(push());
    const deliver = (url: string, delivery: string) =>
      fetch(`${url}/v1/hooks/git`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': delivery, 'x-hub-signature-256': signBody(secret, Buffer.from(body)) },
        body,
      }).then(async (r) => ({ status: r.status, json: (await r.json()) as { builds: { id: string }[]; replay?: boolean } }));
    let handle = await runCoordinator(config, { logger: silentLogger(), withoutNats: true });
    try {
      await handle.services.add({ name: 'api', repo: 'https://github.com/acme/api', buildCommand: 'make', artifactPath: 'out/api' });
      const first = await deliver(handle.url, 'delivery-r1');
      expect(first.json.builds).toHaveLength(1);
      await handle.stop();
      handle = await runCoordinator(config, { logger: silentLogger(), withoutNats: true });
      const replayed = await deliver(handle.url, 'delivery-r1');
      expect(replayed.json).toMatchObject({ replay: true, builds: [{ id: first.json.builds[0]!.id }] });
      const renamed = await deliver(handle.url, 'delivery-r2');
      expect(renamed.json.builds.map((b) => b.id)).toEqual([first.json.builds[0]!.id]);
      expect(await handle.queue.list()).toHaveLength(1);
    } finally {
      await handle.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
