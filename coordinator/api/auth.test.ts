import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadCoordinatorConfig, runCoordinator } from '../index.ts';
import { silentLogger } from '../../logging/index.ts';
import { serviceBody, startTestCoordinator, type TestCoordinator } from '../../test/support/coordinator.ts';
import { grants } from './auth/scopes.ts';
import { TokenStore } from './auth/token-store.ts';
import { tokenSha256 } from '../../api-contract/index.ts';

const tokens = {
  reader: 'r'.repeat(32),
  builder: 'b'.repeat(32),
  deployer: 'd'.repeat(32),
  admin: 'a'.repeat(32),
};

function writePermissions(dir: string, content: unknown): string {
  const file = path.join(dir, 'permissions.json');
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('scopes', () => {
  it('rank read < build < deploy < admin, each implying the ones before', () => {
    expect(grants(['admin'], 'read')).toBe(true);
    expect(grants(['deploy'], 'build')).toBe(true);
    expect(grants(['build'], 'read')).toBe(true);
    expect(grants(['build'], 'deploy')).toBe(false);
    expect(grants(['read'], 'build')).toBe(false);
    expect(grants([], 'read')).toBe(false);
  });

  it('finds tokens by value and refuses duplicate names or secrets', () => {
    const store = new TokenStore([
      { name: 'a', token: tokens.reader, scopes: ['read'] },
      { name: 'b', token: tokens.builder, scopes: ['build'] },
    ]);
    expect(store.find(tokens.builder)).toEqual({ name: 'b', scopes: ['build'], services: null, actAs: false });
    expect(store.find(tokens.builder + 'x')).toBeNull();
    expect(store.find('')).toBeNull();
    expect(() => new TokenStore([{ name: 'a', token: tokens.reader, scopes: ['read'] }, { name: 'a', token: tokens.admin, scopes: ['read'] }])).toThrow(
      /two API tokens are named "a"/,
    );
    expect(() => new TokenStore([{ name: 'a', token: tokens.reader, scopes: ['read'] }, { name: 'b', token: tokens.reader, scopes: ['read'] }])).toThrow(
      /same secret/,
    );
    // A token given as its hash is the same secret as the token itself.
    expect(() => new TokenStore([{ name: 'a', token: tokens.reader, scopes: ['read'] }, { name: 'b', sha256: tokenSha256(tokens.reader), scopes: ['read'] }])).toThrow(/same secret/);
    expect(new TokenStore([{ name: 'h', sha256: tokenSha256(tokens.reader).toUpperCase(), scopes: ['read'], services: ['api'] }]).find(tokens.reader)).toEqual({
      name: 'h',
      scopes: ['read'],
      services: ['api'],
      actAs: false,
    });
  });
});

describe('API authentication', () => {
  let c: TestCoordinator;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-perm-'));
    const file = writePermissions(dir, {
      tokens: [
        { name: 'dashboard', token: tokens.reader, scopes: ['read'] },
        { name: 'ci', token: tokens.builder, scopes: ['build'] },
        { name: 'release', token: tokens.deployer, scopes: ['deploy'] },
      ],
      slack: { services: { api: { deploy: ['U0ALICE'] } } },
    });
    c = await startTestCoordinator('sqlite', { env: { FLEETCAST_PERMISSIONS: file } });
    await c.request('POST', '/v1/services', { body: serviceBody('api') });
  });

  afterAll(async () => {
    await c.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes the local admin token into the data dir, readable by its owner only', () => {
    const file = path.join(c.dataDir, 'api-token');
    expect(fs.readFileSync(file, 'utf8').trim()).toBe(c.token);
    expect(c.token).toMatch(/^[0-9a-f]{64}$/);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('answers 401 without a token or with an unknown one, saying how to get one', async () => {
    for (const token of [null, 'not-a-token', tokens.reader.slice(1)]) {
      const res = await c.request('GET', '/v1/services', { token });
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe('UNAUTHORIZED');
      expect(res.json.error.message).toMatch(/api-token.*FLEETCAST_PERMISSIONS/);
    }
    const basic = await c.request('GET', '/v1/services', { token: null, headers: { authorization: `Basic ${tokens.reader}` } });
    expect(basic.status).toBe(401);
  });

  it('checks the token before reading the body', async () => {
    const res = await c.request('POST', '/v1/services', { token: null, body: '{not json' });
    expect(res.status).toBe(401);
  });

  it('answers 403 naming the scope needed when a token is too weak', async () => {
    const res = await c.request('POST', '/v1/builds', { token: tokens.reader, body: { service: 'api', commit: 'a'.repeat(40) } });
    expect(res.status).toBe(403);
    expect(res.json.error).toMatchObject({ code: 'FORBIDDEN', details: { token: 'dashboard', needed: 'build' } });
    expect(res.json.error.message).toMatch(/token "dashboard" .* may not queue builds: that needs scope build/);

    const add = await c.request('POST', '/v1/services', { token: tokens.deployer, body: serviceBody('web') });
    expect(add.status).toBe(403);
    expect(add.json.error.details.needed).toBe('admin');
  });

  it('lets file tokens do what their scope implies, recording their names', async () => {
    expect((await c.request('GET', '/v1/builds', { token: tokens.reader })).status).toBe(200);
    const built = await c.request('POST', '/v1/builds', { token: tokens.builder, body: { service: 'api', commit: 'c'.repeat(40) } });
    expect(built.status).toBe(201);
    expect(built.json.requestedBy).toBe('ci');
    const cancelled = await c.request('POST', `/v1/builds/${built.json.id}/cancel`, { token: tokens.deployer });
    expect(cancelled.json.cancelledBy).toBe('release');
  });

  it('needs no token for /healthz, /metrics and /v1/openapi.json', async () => {
    for (const url of ['/healthz', '/metrics', '/v1/openapi.json']) expect((await c.request('GET', url, { token: null })).status, url).toBe(200);
  });
});

describe('the permissions file at start', () => {
  let dir: string;

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function startWith(content: unknown | null): Promise<string> {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-perm-'));
    const file = content === null ? path.join(dir, 'missing.json') : writePermissions(dir, content);
    const config = loadCoordinatorConfig({
      env: { FLEETCAST_DATA_DIR: dir, FLEETCAST_LISTEN: '127.0.0.1:0', FLEETCAST_PERMISSIONS: file },
    });
    try {
      const handle = await runCoordinator(config, { logger: silentLogger() });
      await handle.stop();
      return 'started';
    } catch (err) {
      expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
      expect((err as Error).message).toContain(`FLEETCAST_PERMISSIONS file ${file}`);
      return (err as Error).message;
    }
  }

  it('stops the start naming the file and the problem', async () => {
    expect(await startWith(null)).toMatch(/cannot read it \(ENOENT\)/);
    expect(await startWith('{"tokens": [')).toMatch(/not valid JSON/);
    expect(await startWith({ tokens: [{ name: 'ci', token: 'short', scopes: ['build'] }] })).toMatch(/tokens\.0\.token: tokens must be at least 16 characters/);
    expect(await startWith({ tokens: [{ name: 'ci', token: tokens.builder, scopes: ['root'] }] })).toMatch(/tokens\.0\.scopes\.0/);
    expect(await startWith({ tokens: [{ name: 'ci', token: tokens.builder, scope: ['build'] }] })).toMatch(/scope/);
    expect(await startWith({ tokens: [{ name: 'local-admin', token: tokens.builder, scopes: ['read'] }] })).toMatch(/"local-admin" is reserved/);
    const twice = { name: 'ci', token: tokens.builder, scopes: ['build'] };
    expect(await startWith({ tokens: [twice, { ...twice, token: tokens.reader }] })).toMatch(/tokens\.1\.name: two tokens are named "ci"/);
    expect(await startWith({ tokens: [twice, { ...twice, name: 'ci2' }] })).toMatch(/tokens\.1\.token: "ci2" has the same secret/);
    expect(await startWith({ tokens: [twice, { name: 'ci2', sha256: tokenSha256(tokens.builder), scopes: ['read'] }] })).toMatch(/tokens\.1\.sha256: "ci2" has the same secret/);
    expect(await startWith({ tokens: [{ name: 'ci', token: tokens.builder, sha256: tokenSha256(tokens.builder), scopes: ['build'] }] })).toMatch(/tokens\.0: give exactly one of "sha256" \(preferred\) or "token"/);
    expect(await startWith({ tokens: [{ name: 'ci', sha256: 'abc', scopes: ['build'] }] })).toMatch(/tokens\.0\.sha256: give the token's sha256 as 64 hex digits/);
    expect(await startWith({ tokens: [{ name: 'ci', token: tokens.builder, scopes: ['build'], services: ['API!'] }] })).toMatch(/tokens\.0\.services\.0: service names/);
  });

  it('starts with a valid file, and keeps the generated token across restarts', async () => {
    expect(await startWith({ tokens: [] })).toBe('started');
    const first = fs.readFileSync(path.join(dir, 'api-token'), 'utf8');
    const config = loadCoordinatorConfig({ env: { FLEETCAST_DATA_DIR: dir, FLEETCAST_LISTEN: '127.0.0.1:0' } });
    const handle = await runCoordinator(config, { logger: silentLogger() });
    await handle.stop();
    expect(handle.adminToken).toBe(first.trim());
  });
});
