// A relay token (the Slack bot) acting for a person: the person is recorded as requestedBy /
// actor (`slack:alice`), the relay and the person's stable id in the audit row; tokens without
// "actAs" are refused the header, and a malformed header is a bad request.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCoordinatorConfig, runCoordinator, selectAudit } from '../index.ts';
import { silentLogger } from '../../logging/index.ts';
import { serviceBody, startTestCoordinator, type TestCoordinator } from '../../test/support/coordinator.ts';

const tokens = { bot: 'slack-bot-token-0123456789abcdef', release: 'release-token-0123456789abcdef', reader: 'reader-relay-token-0123456789ab' };
const alice = { 'x-fleetcast-on-behalf-of': 'slack:U0ALICE1 (alice)' };

let c: TestCoordinator;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-actas-'));
  const file = path.join(dir, 'permissions.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      tokens: [
        { name: 'slack-bot', token: tokens.bot, scopes: ['deploy'], actAs: true },
        { name: 'release', token: tokens.release, scopes: ['deploy'] },
        { name: 'dashboard', token: tokens.reader, scopes: ['read'], actAs: true },
      ],
      slack: { services: { '*': { lock: ['U0ALICE1'], build: ['U0ALICE1', 'U0BOB'] } } },
    }),
  );
  c = await startTestCoordinator('sqlite', { env: { FLEETCAST_PERMISSIONS: file } });
  for (const name of ['api', 'web']) expect((await c.request('POST', '/v1/services', { body: serviceBody(name) })).status).toBe(201);
});

afterAll(async () => {
  await c?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('acting on behalf of someone', () => {
  it('records the person as the actor, and the relay with the stable id in the audit row', async () => {
    const locked = await c.request('POST', '/v1/services/api/lock', { token: tokens.bot, headers: alice, body: { reason: 'incident 7' } });
    expect(locked.status, locked.text).toBe(201);
    expect(locked.json).toMatchObject({ service: 'api', lockedBy: 'slack:alice', reason: 'incident 7' });
    const unlocked = await c.request('DELETE', '/v1/services/api/lock', { token: tokens.bot, headers: alice });
    expect(unlocked.status).toBe(200);
    const rows = (await selectAudit(c.handle.db, 'api')).filter((row) => row.action !== 'service-add');
    expect(rows.map((row) => [row.actor, row.action, row.result])).toEqual([
      ['slack:alice', 'lock', 'ok'],
      ['slack:alice', 'unlock', 'ok'],
    ]);
    for (const row of rows) expect(JSON.parse(String(row.detail)).via).toEqual({ token: 'slack-bot', id: 'slack:U0ALICE1' });
  });

  it('names the person as requestedBy of a build', async () => {
    const built = await c.request('POST', '/v1/builds', { token: tokens.bot, headers: alice, body: { service: 'api', commit: 'a'.repeat(40) } });
    expect(built.status).toBe(201);
    expect(built.json.requestedBy).toBe('slack:alice');
    const cancelled = await c.request('POST', `/v1/builds/${built.json.id}/cancel`, { token: tokens.bot, headers: { 'x-fleetcast-on-behalf-of': 'slack:U0BOB' } });
    expect(cancelled.json.cancelledBy).toBe('slack:U0BOB');
  });

  it('says who the caller is, as the API sees it', async () => {
    expect((await c.request('GET', '/v1/whoami', { token: tokens.bot })).json).toEqual({ name: 'slack-bot', scopes: ['deploy'], actAs: true, onBehalf: null });
    expect((await c.request('GET', '/v1/whoami', { token: tokens.bot, headers: alice })).json).toEqual({
      name: 'slack:alice',
      scopes: ['deploy'],
      actAs: false,
      onBehalf: { token: 'slack-bot', id: 'slack:U0ALICE1' },
    });
    expect((await c.request('GET', '/v1/whoami', { token: tokens.release })).json.actAs).toBe(false);
  });

  it('refuses the header from a token not marked actAs, and audits the refusal under the token', async () => {
    const res = await c.request('POST', '/v1/services/web/lock', { token: tokens.release, headers: alice, body: { reason: 'x' } });
    expect(res.status).toBe(403);
    expect(res.json.error).toMatchObject({ code: 'FORBIDDEN', details: { token: 'release' } });
    expect(res.json.error.message).toMatch(/token "release" may not act on behalf of others .*"actAs": true/);
    // Even a read needs the mark: the header must never be silently ignored.
    expect((await c.request('GET', '/v1/services', { token: tokens.release, headers: alice })).status).toBe(403);
    expect(await c.handle.deploys.getLock('web')).toBeNull();
    expect((await selectAudit(c.handle.db, 'web')).at(-1)).toMatchObject({ actor: 'release', action: 'lock', result: 'refused' });
  });

  it('keeps the relay token to its scopes, saying whom it acted for', async () => {
    const res = await c.request('POST', '/v1/services/web/lock', { token: tokens.reader, headers: { 'x-fleetcast-on-behalf-of': 'slack:U0CAROL (carol)' }, body: { reason: 'x' } });
    expect(res.status).toBe(403);
    expect(res.json.error.message).toMatch(/token "dashboard" \(acting for slack:carol; scopes: read\) may not lock services: that needs scope deploy/);
    const row = (await selectAudit(c.handle.db, 'web')).at(-1)!;
    expect(row).toMatchObject({ actor: 'slack:carol', result: 'refused' });
    expect(JSON.parse(String(row.detail)).via).toEqual({ token: 'dashboard', id: 'slack:U0CAROL' });
  });

  it('refuses a malformed header as a bad request, naming the form', async () => {
    for (const value of ['alice', 'slack:', 'slack:U1 (alice smith)', 'SLACK:U1', `slack:${'x'.repeat(65)}`]) {
      const res = await c.request('GET', '/v1/whoami', { token: tokens.bot, headers: { 'x-fleetcast-on-behalf-of': value } });
      expect(res.status, value).toBe(400);
      expect(res.json.error.message).toContain('slack:U0123ABCD (alice)');
    }
  });
});

it('stops the start when actAs is not true or false', async () => {
  const bad = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-actas-'));
  try {
    const file = path.join(bad, 'permissions.json');
    fs.writeFileSync(file, JSON.stringify({ tokens: [{ name: 'bot', token: tokens.bot, scopes: ['deploy'], actAs: 'yes' }] }));
    const config = loadCoordinatorConfig({ env: { FLEETCAST_DATA_DIR: bad, FLEETCAST_LISTEN: '127.0.0.1:0', FLEETCAST_PERMISSIONS: file } });
    await expect(runCoordinator(config, { logger: silentLogger(), withoutNats: true })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('tokens.0.actAs') });
  } finally {
    fs.rmSync(bad, { recursive: true, force: true });
  }
});
