import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dialects } from '../../test/support/databases.ts';
import { serviceBody, startTestCoordinator, type TestCoordinator } from '../../test/support/coordinator.ts';
import type { Build } from '../../queue/index.ts';
import type { BuildLogSource } from './build-log-source.ts';

const commitA = 'a'.repeat(40);
const commitB = 'b'.repeat(40);

/** A log of `lines` lines, served three bytes at a time so that paging shows. */
function fakeLogs(text: string): BuildLogSource {
  return {
    async read(_build: Build, offset: number) {
      const chunk = text.slice(offset, offset + 3);
      return { text: chunk, nextOffset: offset + chunk.length };
    },
  };
}

describe.each(dialects)('the coordinator API on %s', (dialect) => {
  let c: TestCoordinator;

  beforeEach(async () => {
    c = await startTestCoordinator(dialect, { overrides: { buildLogs: fakeLogs('hello\n') } });
  });

  afterEach(async () => {
    await c.stop();
  });

  it('answers /healthz without a token', async () => {
    const res = await c.request('GET', '/healthz', { token: null });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ ok: true, database: 'ok' });
  });

  it('registers, lists and shows services, and refuses a second registration', async () => {
    const created = await c.request('POST', '/v1/services', { body: serviceBody('api', { runCommand: './api', branch: 'release' }) });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      name: 'api',
      repo: '/srv/git/api',
      branch: 'release',
      buildCommand: 'make',
      artifactPath: 'out/api',
      runCommand: './api',
    });
    expect(new Date(created.json.createdAt).toISOString()).toBe(created.json.createdAt);

    const again = await c.request('POST', '/v1/services', { body: serviceBody('api') });
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('api already exists') });

    await c.request('POST', '/v1/services', { body: serviceBody('web') });
    const list = await c.request('GET', '/v1/services');
    expect(list.json.services.map((s: { name: string }) => s.name)).toEqual(['api', 'web']);

    const one = await c.request('GET', '/v1/services/web');
    expect(one.json).toMatchObject({ name: 'web', branch: 'main', runCommand: null });

    const unknown = await c.request('GET', '/v1/services/nope');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('NOT_FOUND');
  });

  it('refuses path-like service names with 400, in bodies, paths and queries', async () => {
    for (const name of ['../x', 'a/b', '..', 'A', '']) {
      const res = await c.request('POST', '/v1/services', { body: serviceBody(name) });
      expect(res.status, name).toBe(400);
      expect(res.json.error.code).toBe('INVALID_INPUT');
      expect(res.json.error.details.problems[0]).toMatch(/^name: /);
    }
    for (const encoded of ['..%2Fx', 'a%2Fb', 'x%2F..%2F..']) {
      const res = await c.request('GET', `/v1/services/${encoded}`);
      expect(res.status, encoded).toBe(400);
      expect(res.json.error.code).toBe('INVALID_INPUT');
    }
    expect((await c.request('GET', '/v1/builds?service=..%2Fx')).status).toBe(400);
    expect((await c.request('POST', '/v1/builds', { body: { service: 'a/b', commit: commitA } })).status).toBe(400);
  });

  it('refuses malformed JSON, unknown fields and artifact paths leaving the checkout', async () => {
    const bad = await c.request('POST', '/v1/services', { body: '{"name": "api",' });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: 'INVALID_INPUT', message: 'the request body is not valid JSON' });

    const typo = await c.request('POST', '/v1/services', { body: { ...serviceBody('api'), runComand: 'x' } });
    expect(typo.status).toBe(400);
    expect(typo.json.error.message).toMatch(/runComand/);

    const escape = await c.request('POST', '/v1/services', { body: serviceBody('api', { artifactPath: '../../etc/passwd' }) });
    expect(escape.status).toBe(400);
    expect(escape.json.error.message).toMatch(/artifactPath: the artifact path is relative to the checkout/);

    const missing = await c.request('POST', '/v1/services', { body: {} });
    expect(missing.json.error.details.problems.length).toBeGreaterThanOrEqual(4);
  });

  it('queues builds once per active commit unless forced, with the token name as requester', async () => {
    await c.request('POST', '/v1/services', { body: serviceBody('api') });
    const first = await c.request('POST', '/v1/builds', { body: { service: 'api', commit: commitA.toUpperCase() } });
    expect(first.status).toBe(201);
    expect(Object.keys(first.json).sort()).toEqual(
      [
        'id', 'service', 'commit', 'artifact', 'status', 'createdAt', 'startedAt', 'finishedAt', 'attempts', 'maxAttempts',
        'claimedBy', 'lastHeartbeat', 'failureReason', 'digest', 'size', 'requestedBy', 'cancelledBy', 'commitAuthor', 'commitSubject', 'branchOverrideBy', 'used', 'durationMs',
  'deployable', 'deployableReason', 'replication',
      ].sort(),
    );
    expect(first.json).toMatchObject({
      id: expect.stringMatching(/^b\d+$/),
      service: 'api',
      commit: commitA,
      artifact: 'out/api',
      status: 'QUEUED',
      attempts: 0,
      requestedBy: 'local-admin',
      durationMs: null,
      deployable: false,
      deployableReason: `build ${first.json.id} is QUEUED, not SUCCEEDED`,
      replication: [expect.objectContaining({ region: 'local', status: 'PENDING' })],
    });

    const same = await c.request('POST', '/v1/builds', { body: { service: 'api', commit: commitA } });
    expect(same.status).toBe(200);
    expect(same.json.id).toBe(first.json.id);

    const forced = await c.request('POST', '/v1/builds', { body: { service: 'api', commit: commitA, force: true } });
    expect(forced.status).toBe(201);
    expect(forced.json.id).not.toBe(first.json.id);

    const unknown = await c.request('POST', '/v1/builds', { body: { service: 'web', commit: commitA } });
    expect(unknown.status).toBe(404);
    const badCommit = await c.request('POST', '/v1/builds', { body: { service: 'api', commit: 'main' } });
    expect(badCommit.status).toBe(400);
    expect(badCommit.json.error.message).toMatch(/commit: give 7 to 64 hexadecimal characters/);
  });

  it('lists builds newest first, filters, and pages with before/next', async () => {
    await c.request('POST', '/v1/services', { body: serviceBody('api') });
    await c.request('POST', '/v1/services', { body: serviceBody('web') });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await c.request('POST', '/v1/builds', { body: { service: i % 2 === 0 ? 'api' : 'web', commit: commitA, force: true } });
      ids.push(res.json.id);
    }
    const all = await c.request('GET', '/v1/builds');
    expect(all.json.builds.map((b: { id: string }) => b.id)).toEqual([...ids].reverse());
    expect(all.json.next).toBeNull();

    const page1 = await c.request('GET', '/v1/builds?limit=2');
    expect(page1.json.builds.map((b: { id: string }) => b.id)).toEqual([ids[4], ids[3]]);
    expect(page1.json.next).toBe(ids[3]);
    const page2 = await c.request('GET', `/v1/builds?limit=2&before=${page1.json.next}`);
    expect(page2.json.builds.map((b: { id: string }) => b.id)).toEqual([ids[2], ids[1]]);
    const page3 = await c.request('GET', `/v1/builds?limit=2&before=${page2.json.next.slice(1)}`);
    expect(page3.json.builds.map((b: { id: string }) => b.id)).toEqual([ids[0]]);
    expect(page3.json.next).toBeNull();

    const web = await c.request('GET', '/v1/builds?service=web');
    expect(web.json.builds.map((b: { id: string }) => b.id)).toEqual([ids[3], ids[1]]);

    await c.handle.queue.claim('w1');
    const running = await c.request('GET', '/v1/builds?status=RUNNING');
    expect(running.json.builds.map((b: { id: string }) => b.id)).toEqual([ids[0]]);

    for (const query of ['status=DONE', 'limit=0', 'limit=501', 'before=x1', 'colour=red']) {
      const res = await c.request('GET', `/v1/builds?${query}`);
      expect(res.status, query).toBe(400);
    }
  });

  it('shows a build as b42 or 42, cancels it once, and names the canceller', async () => {
    await c.request('POST', '/v1/services', { body: serviceBody('api') });
    const { json: build } = await c.request('POST', '/v1/builds', { body: { service: 'api', commit: commitB } });
    const number = build.id.slice(1);
    expect((await c.request('GET', `/v1/builds/${build.id}`)).json).toEqual(build);
    expect((await c.request('GET', `/v1/builds/${number}`)).json).toEqual(build);
    expect((await c.request('GET', '/v1/builds/b999999')).status).toBe(404);
    expect((await c.request('GET', '/v1/builds/x1')).status).toBe(400);

    const cancelled = await c.request('POST', `/v1/builds/${build.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({ status: 'FAILED', cancelledBy: 'local-admin', failureReason: 'cancelled by local-admin' });
    const again = await c.request('POST', `/v1/builds/${build.id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({ code: 'FINAL_STATE', message: expect.stringContaining('already FAILED') });
  });

  it('serves the build log in chunks with the next offset, complete once the build is final', async () => {
    await c.request('POST', '/v1/services', { body: serviceBody('api') });
    const { json: build } = await c.request('POST', '/v1/builds', { body: { service: 'api', commit: commitA } });
    const read = (offset: number) => c.request('GET', `/v1/builds/${build.id}/log?offset=${offset}`);

    const first = await read(0);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(first.text).toBe('hel');
    expect(first.headers.get('x-fleetcast-log-offset')).toBe('3');
    expect(first.headers.get('x-fleetcast-log-complete')).toBe('false');
    const end = await read(6);
    expect(end.text).toBe('');
    expect(end.headers.get('x-fleetcast-log-complete')).toBe('false');

    await c.handle.queue.cancel(build.id, 'test');
    const second = await read(3);
    expect(second.text).toBe('lo\n');
    expect(second.headers.get('x-fleetcast-log-complete')).toBe('false');
    const done = await read(6);
    expect(done.headers.get('x-fleetcast-log-offset')).toBe('6');
    expect(done.headers.get('x-fleetcast-log-complete')).toBe('true');

    expect((await c.request('GET', `/v1/builds/${build.id}/log?offset=-1`)).status).toBe(400);
  });

  it('answers unknown endpoints with 404 in the error shape', async () => {
    const res = await c.request('GET', '/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.json.error).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('/v1/openapi.json') });
  });

  it('describes itself in OpenAPI 3.1 with every reference resolvable', async () => {
    const res = await c.request('GET', '/v1/openapi.json', { token: null });
    expect(res.status).toBe(200);
    const doc = res.json;
    expect(doc.openapi).toBe('3.1.0');
    for (const [path, method] of [
      ['/v1/services', 'post'],
      ['/v1/services/{name}', 'get'],
      ['/v1/builds', 'get'],
      ['/v1/builds', 'post'],
      ['/v1/builds/{id}', 'get'],
      ['/v1/builds/{id}/cancel', 'post'],
      ['/v1/builds/{id}/log', 'get'],
      ['/v1/hooks/git', 'post'],
      ['/v1/events', 'get'],
      ['/healthz', 'get'],
      ['/metrics', 'get'],
    ]) {
      expect(doc.paths[path!]?.[method!], `${method} ${path}`).toBeDefined();
    }
    expect(doc.paths['/v1/builds'].post['x-fleetcast-scope']).toBe('build');
    expect(doc.components.schemas.Build.required).toContain('durationMs');
    expect(doc.components.schemas.AddService.properties.name.pattern).toBeDefined();
    const refs = JSON.stringify(doc).match(/"#\/components\/schemas\/[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(5);
    for (const ref of new Set(refs)) expect(doc.components.schemas[ref.slice(22, -1)], ref).toBeDefined();
  });
});

describe('the coordinator API on failures it did not expect', () => {
  let c: TestCoordinator;

  beforeEach(async () => {
    const broken: BuildLogSource = {
      async read() {
        throw new Error('secret internals at /very/private/path');
      },
    };
    c = await startTestCoordinator('sqlite', { overrides: { buildLogs: broken } });
  });

  afterEach(async () => {
    await c.stop();
  });

  it('answers 500 INTERNAL with a request id and no stack or message', async () => {
    await c.request('POST', '/v1/services', { body: serviceBody('api') });
    const { json: build } = await c.request('POST', '/v1/builds', { body: { service: 'api', commit: commitA } });
    const res = await c.request('GET', `/v1/builds/${build.id}/log`);
    expect(res.status).toBe(500);
    expect(res.json.error.code).toBe('INTERNAL');
    expect(res.json.error.message).toMatch(/request id req-/);
    expect(res.text).not.toMatch(/private|at .*\.ts/);
  });

  it('reports the database down on /healthz with 503', async () => {
    await c.handle.db.close();
    const res = await c.request('GET', '/healthz', { token: null });
    expect(res.status).toBe(503);
    expect(res.json).toEqual({ ok: false, database: 'unavailable' });
  });
});
