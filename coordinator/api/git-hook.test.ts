import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dialects } from '../../test/support/databases.ts';
import { serviceBody, startTestCoordinator, type TestCoordinator } from '../../test/support/coordinator.ts';
import { normalizeRepo, servicesForPush, type PushEvent } from './webhook/push-event.ts';
import { RecentDeliveries } from './webhook/recent-deliveries.ts';
import { signBody } from './webhook/signature.ts';

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
    const base = { buildCommand: 'make', artifactPath: 'out/x', runCommand: null, healthUrl: null, buildNetwork: true, buildEnv: {}, createdAt: new Date() };
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

  it('remembers deliveries, shares concurrent copies and forgets failures', async () => {
    const deliveries = new RecentDeliveries<number>(2);
    let runs = 0;
    const work = async () => ++runs;
    const [a, b] = await Promise.all([deliveries.run('d1', work), deliveries.run('d1', work)]);
    expect([a.result, a.replay, b.result, b.replay]).toEqual([1, false, 1, true]);
    await expect(deliveries.run('d2', async () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect((await deliveries.run('d2', work)).replay).toBe(false);
    await deliveries.run('d3', work);
    expect((await deliveries.run('d1', work)).replay).toBe(false); // forgotten: capacity 2
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

    // A new delivery of the same commit while its builds are active: submit() finds them.
    const other = await deliver(push(), { 'x-github-delivery': 'delivery-3' });
    expect((await c.request('GET', '/v1/builds')).json.builds).toHaveLength(3);
    expect(other.json.builds).toHaveLength(2);
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
