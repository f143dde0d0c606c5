// Browser sign-in on a real coordinator (SQLite, no NATS): an API token exchanged once for an
// HttpOnly, SameSite=Strict session cookie and a CSRF token; changes through the session need the
// token, reads do not; bearer clients are unchanged; the events stream takes the cookie only from
// the coordinator's own origin, and the fleet subscription sends builds as they change.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { serviceBody, startTestCoordinator, type TestCoordinator } from '../../test/support/coordinator.ts';
import type { ServerMessage } from './events/messages.ts';

const readToken = 'dashboard-test-read-token-0123456789';
let c: TestCoordinator;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-dashboard-session-'));
  const permissions = path.join(dir, 'permissions.json');
  fs.writeFileSync(permissions, JSON.stringify({ tokens: [{ name: 'viewer', token: readToken, scopes: ['read'] }] }));
  c = await startTestCoordinator('sqlite', { env: { FLEETCAST_PERMISSIONS: permissions } });
}, 60_000);

afterAll(async () => {
  await c?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function signIn(token: string): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const reply = await c.request('POST', '/v1/session', { token: null, body: { token } });
  expect(reply.status, reply.text).toBe(201);
  const setCookie = reply.headers.get('set-cookie')!;
  return { cookie: setCookie.split(';')[0]!, csrf: reply.json.csrf as string, setCookie };
}

describe('dashboard sessions', () => {
  it('exchange a token once for an HttpOnly, SameSite=Strict cookie (not Secure over plain HTTP) and a CSRF token; an unknown token gets none', async () => {
    const { setCookie, csrf } = await signIn(c.token);
    expect(setCookie).toMatch(/^fleetcast_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const refused = await c.request('POST', '/v1/session', { token: null, body: { token: 'not-a-token-of-this-coordinator' } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('set-cookie')).toBeNull();
    // Audited as a refused sign-in, like a bearer request with an unknown token.
    await expect
      .poll(async () => (await c.request('GET', '/v1/audit?action=sign-in&result=refused')).json.entries[0])
      .toMatchObject({ actor: 'unknown-token', target: 'dashboard', detail: { route: '/v1/session' } });
    expect((await c.request('GET', '/v1/audit?action=sign-in&result=ok')).json.entries[0]).toMatchObject({ actor: 'local-admin', target: 'dashboard' });
  });

  it('read with the cookie alone; a change needs the CSRF header, and gets through with it', async () => {
    const { cookie, csrf } = await signIn(c.token);
    const session = await c.request('GET', '/v1/session', { token: null, headers: { cookie } });
    expect(session.json).toMatchObject({ name: 'local-admin', scopes: ['admin'], services: null, csrf });
    expect((await c.request('GET', '/v1/services', { token: null, headers: { cookie } })).status).toBe(200);

    const withoutCsrf = await c.request('POST', '/v1/services', { token: null, headers: { cookie }, body: serviceBody('web') });
    expect(withoutCsrf.status).toBe(403);
    expect(withoutCsrf.json.error).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('CSRF token in the x-csrf-token header') });
    const wrongCsrf = await c.request('POST', '/v1/services', { token: null, headers: { cookie, 'x-csrf-token': 'x'.repeat(43) }, body: serviceBody('web') });
    expect(wrongCsrf.status).toBe(403);
    expect((await c.request('GET', '/v1/services/web', { token: null, headers: { cookie } })).status).toBe(404);

    const withCsrf = await c.request('POST', '/v1/services', { token: null, headers: { cookie, 'x-csrf-token': csrf }, body: serviceBody('web') });
    expect(withCsrf.status, withCsrf.text).toBe(201);
    // Audited under the token's name, like a bearer request.
    const audit = await c.request('GET', '/v1/audit?action=service-add');
    expect(audit.json.entries[0]).toMatchObject({ actor: 'local-admin', target: 'web' });
  });

  it('bearer clients are unchanged: no CSRF token, no cookie', async () => {
    const reply = await c.request('POST', '/v1/services', { body: serviceBody('bearer-made') });
    expect(reply.status, reply.text).toBe(201);
  });

  it("a session carries its token's scopes: a read-only one is refused a change even with the CSRF token", async () => {
    const { cookie, csrf } = await signIn(readToken);
    const reply = await c.request('POST', '/v1/services/web/lock', { token: null, headers: { cookie, 'x-csrf-token': csrf }, body: { reason: 'crafted' } });
    expect(reply.status).toBe(403);
    expect(reply.json.error.message).toContain('token "viewer" (scopes: read) may not lock services');
  });

  it('sign-out ends the session and clears the cookie', async () => {
    const { cookie, csrf } = await signIn(c.token);
    const out = await c.request('DELETE', '/v1/session', { token: null, headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/^fleetcast_session=; .*Max-Age=0/);
    expect((await c.request('GET', '/v1/services', { token: null, headers: { cookie } })).status).toBe(401);
  });
});

describe('the events stream for browsers', () => {
  const open = (headers: Record<string, string>) =>
    new Promise<{ socket: WebSocket; messages: ServerMessage[] }>((resolve, reject) => {
      const socket = new WebSocket(`${c.url.replace(/^http/, 'ws')}/v1/events`, { headers });
      const messages: ServerMessage[] = [];
      socket.on('message', (data) => messages.push(JSON.parse(data.toString()) as ServerMessage));
      socket.once('open', () => resolve({ socket, messages }));
      socket.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
      socket.once('error', reject);
    });

  it('takes the session cookie from the coordinator\'s own pages only (cross-site WebSocket hijacking)', async () => {
    const { cookie } = await signIn(c.token);
    const host = new URL(c.url).host;
    await expect(open({ cookie, origin: 'https://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(open({ cookie })).rejects.toThrow('HTTP 403');
    const ok = await open({ cookie, origin: `http://${host}` });
    ok.socket.close();
  });

  it('the fleet subscription sends every build change to every subscriber, cookie or bearer', async () => {
    const { cookie } = await signIn(c.token);
    const browser = await open({ cookie, origin: `http://${new URL(c.url).host}` });
    const cli = await open({ authorization: `Bearer ${c.token}` });
    for (const s of [browser, cli]) s.socket.send(JSON.stringify({ subscribe: 'fleet' }));
    const build = await c.handle.queue.enqueue({ service: 'web', commit: 'f'.repeat(40) });
    const seen = (s: { messages: ServerMessage[] }) => s.messages.some((m) => m.type === 'build' && m.build.id === `b${build.id}` && m.build.status === 'QUEUED');
    await expect.poll(() => seen(browser) && seen(cli), { timeout: 10_000 }).toBe(true);
    await c.handle.queue.cancel(build.id, 'test');
    const cancelled = (s: { messages: ServerMessage[] }) => s.messages.some((m) => m.type === 'build' && m.build.id === `b${build.id}` && m.build.status === 'FAILED' && m.build.cancelledBy === 'test');
    await expect.poll(() => cancelled(browser) && cancelled(cli), { timeout: 10_000 }).toBe(true);
    browser.socket.close();
    cli.socket.close();
  });
});
