// Tokens limited to services, relays bounded by the Slack grants of the person they name,
// tokens kept as sha256 in the file, and the file reloaded without a restart: each through a
// real coordinator (SQLite) and its HTTP API.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { tokenSha256 } from '../../api-contract/index.ts';
import { selectAudit } from '../index.ts';
import { eventually } from '../../test/support/eventually.ts';
import { serviceBody, startTestCoordinator, type TestCoordinator } from '../../test/support/coordinator.ts';

const tokens = {
  web: 'web-only-token-0123456789abcdef',
  bot: 'slack-bot-token-0123456789abcdef',
  hashed: 'hashed-token-0123456789abcdef01',
  later: 'added-later-token-0123456789abcd',
};
const slack = { services: { web: { deploy: ['U0ALICE1'], lock: ['U0ALICE1'], build: ['U0ALICE1'] }, api: { lock: ['S0ONCALL'] } } };
const asPerson = (id: string, name: string) => ({ 'x-fleetcast-on-behalf-of': `slack:${id} (${name})` });

let c: TestCoordinator;
let dir: string;
let file: string;
let apiBuild: string;

function writePermissions(extra: unknown[] = []): void {
  fs.writeFileSync(
    file,
    JSON.stringify({
      tokens: [
        { name: 'web-ci', token: tokens.web, scopes: ['deploy'], services: ['web'] },
        { name: 'slack-bot', sha256: tokenSha256(tokens.bot), scopes: ['deploy'], actAs: true },
        { name: 'hashed', sha256: tokenSha256(tokens.hashed).toUpperCase(), scopes: ['read'] },
        ...extra,
      ],
      slack,
    }),
  );
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-service-tokens-'));
  file = path.join(dir, 'permissions.json');
  writePermissions();
  c = await startTestCoordinator('sqlite', { env: { FLEETCAST_PERMISSIONS: file } });
  for (const name of ['api', 'web']) expect((await c.request('POST', '/v1/services', { body: serviceBody(name) })).status).toBe(201);
  apiBuild = (await c.request('POST', '/v1/builds', { body: { service: 'api', commit: 'a'.repeat(40) } })).json.id;
});

afterAll(async () => {
  await c?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a token limited to services', () => {
  it('cannot deploy, build, lock or read api: 403 naming the service', async () => {
    const attempts = [
      await c.request('POST', '/v1/deployments', { token: tokens.web, body: { build: apiBuild } }),
      await c.request('POST', '/v1/builds', { token: tokens.web, body: { service: 'api', commit: 'b'.repeat(40) } }),
      await c.request('POST', '/v1/services/api/lock', { token: tokens.web, body: { reason: 'mine now' } }),
      await c.request('POST', '/v1/services/api/rollback', { token: tokens.web, body: {} }),
      await c.request('GET', `/v1/builds/${apiBuild}/log`, { token: tokens.web }),
      await c.request('GET', '/v1/services/api/status', { token: tokens.web }),
    ];
    for (const res of attempts) {
      expect(res.status, res.text).toBe(403);
      expect(res.json.error).toMatchObject({ code: 'FORBIDDEN', details: { token: 'web-ci', service: 'api', services: ['web'] } });
      expect(res.json.error.message).toMatch(/token "web-ci" is limited to service web and may not .* on service api/);
    }
    expect(await c.handle.deploys.getLock('api')).toBeNull();
    expect((await c.handle.queue.list({ service: 'api' })).map((b) => b.commit)).toEqual(['a'.repeat(40)]);
  });

  it('works on its own service, and sees only it in lists', async () => {
    const built = await c.request('POST', '/v1/builds', { token: tokens.web, body: { service: 'web', commit: 'c'.repeat(40) } });
    expect(built.status, built.text).toBe(201);
    expect((await c.request('GET', '/v1/services', { token: tokens.web })).json.services.map((s: { name: string }) => s.name)).toEqual(['web']);
    expect((await c.request('GET', '/v1/builds?service=web', { token: tokens.web })).status).toBe(200);
    const unnamed = await c.request('GET', '/v1/builds', { token: tokens.web });
    expect(unnamed.status).toBe(403);
    expect(unnamed.json.error.message).toContain('?service=web');
  });

  it('cannot watch api builds on /v1/events, and can watch its own', async () => {
    const socket = new WebSocket(`${c.url.replace(/^http/, 'ws')}/v1/events`, { headers: { authorization: `Bearer ${tokens.web}` } });
    const messages: { type: string; id?: string; error?: { code: string; message: string }; build?: { id: string } }[] = [];
    socket.on('message', (data) => messages.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    try {
      const webBuild = (await c.request('GET', '/v1/builds?service=web', { token: tokens.web })).json.builds[0].id;
      socket.send(JSON.stringify({ subscribe: 'log', id: apiBuild }));
      socket.send(JSON.stringify({ subscribe: 'build', id: webBuild }));
      await eventually(() => messages.length >= 2, 5_000, 'two answers');
      expect(messages.find((m) => m.type === 'error')).toMatchObject({ id: apiBuild, error: { code: 'FORBIDDEN', message: expect.stringContaining('may not watch service api') } });
      expect(messages.find((m) => m.type === 'build')?.build?.id).toBe(webBuild);
      expect(messages.some((m) => m.type === 'log')).toBe(false);
    } finally {
      socket.close();
    }
  });

  it('leaves its refusals in the audit, under the token, with the service', async () => {
    const rows = await selectAudit(c.handle.db, 'api');
    const refused = rows.filter((row) => row.actor === 'web-ci' && row.result === 'refused').map((row) => row.action);
    expect(refused).toEqual(expect.arrayContaining(['deploy', 'build', 'lock', 'rollback', 'request']));
  });
});

describe('a relaying token', () => {
  it('cannot deploy or lock for a Slack user without the grant', async () => {
    const bob = await c.request('POST', '/v1/services/web/lock', { token: tokens.bot, headers: asPerson('U0BOB', 'bob'), body: { reason: 'x' } });
    expect(bob.status, bob.text).toBe(403);
    expect(bob.json.error.message).toMatch(/slack:bob \(slack:U0BOB\) may not lock services on service web: .*slack\.services\.web\.lock to U0ALICE1/);
    const aliceOnApi = await c.request('POST', '/v1/deployments', { token: tokens.bot, headers: asPerson('U0ALICE1', 'alice'), body: { build: apiBuild } });
    expect(aliceOnApi.status).toBe(403);
    expect(aliceOnApi.json.error).toMatchObject({ code: 'FORBIDDEN', details: { service: 'api', slackAction: 'deploy', grantees: [] } });
    // No grant lets a relay register services or retry copies for someone.
    const replicate = await c.request('POST', `/v1/builds/${apiBuild}/replicate`, { token: tokens.bot, headers: asPerson('U0ALICE1', 'alice') });
    expect(replicate.status).toBe(403);
    expect(await c.handle.deploys.getLock('web')).toBeNull();
    const row = (await selectAudit(c.handle.db, 'web')).at(-1)!;
    expect(row).toMatchObject({ actor: 'slack:bob', action: 'lock', result: 'refused' });
    expect(JSON.parse(String(row.detail)).via).toEqual({ token: 'slack-bot', id: 'slack:U0BOB' });
  });

  it('counts a user group grant for nobody when the coordinator cannot ask Slack (no FLEETCAST_SLACK_BOT_TOKEN)', async () => {
    const carol = await c.request('POST', '/v1/services/api/lock', { token: tokens.bot, headers: asPerson('U0CAROL', 'carol'), body: { reason: 'on call' } });
    expect(carol.status).toBe(403);
    expect(carol.json.error.message).toContain('user group grants need FLEETCAST_SLACK_BOT_TOKEN on the coordinator');
    expect(await c.handle.deploys.getLock('api')).toBeNull();
  });

  it('does what the person is granted', async () => {
    const locked = await c.request('POST', '/v1/services/web/lock', { token: tokens.bot, headers: asPerson('U0ALICE1', 'alice'), body: { reason: 'alice may' } });
    expect(locked.status, locked.text).toBe(201);
    expect((await c.request('DELETE', '/v1/services/web/lock', { token: tokens.bot, headers: asPerson('U0ALICE1', 'alice') })).status).toBe(200);
    // Reads need no grant.
    expect((await c.request('GET', '/v1/services/api', { token: tokens.bot, headers: asPerson('U0BOB', 'bob') })).status).toBe(200);
  });
});

describe('hashed tokens and reloads', () => {
  it('accepts a token the file holds only as its sha256 (any case)', async () => {
    expect((await c.request('GET', '/v1/whoami', { token: tokens.hashed })).json).toMatchObject({ name: 'hashed', scopes: ['read'] });
    expect(fs.readFileSync(file, 'utf8')).not.toContain(tokens.hashed);
  });

  it('takes a changed file without a restart, and keeps the old tokens when the new file is broken', async () => {
    expect((await c.request('GET', '/v1/whoami', { token: tokens.later })).status).toBe(401);
    writePermissions([{ name: 'later', sha256: tokenSha256(tokens.later), scopes: ['read'] }]);
    await eventually(async () => (await c.request('GET', '/v1/whoami', { token: tokens.later })).status === 200, 10_000, 'the new token to be accepted');
    fs.writeFileSync(file, '{"tokens": [ broken');
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await c.request('GET', '/v1/whoami', { token: tokens.later })).status).toBe(200);
    expect((await c.request('GET', '/v1/whoami')).status).toBe(200);
    // Removing a token takes it away.
    writePermissions();
    await eventually(async () => (await c.request('GET', '/v1/whoami', { token: tokens.later })).status === 401, 10_000, 'the removed token to be refused');
  });
});
