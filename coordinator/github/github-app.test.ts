// Signing in as a GitHub App: the settings are checked at start (all three, not with a token, a
// readable PEM key), and the real client makes an installation token from the App's key (the
// local fake checks the JWT's signature and issuer) and sends the statuses with it.
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Database } from '../../entities/index.ts';
import { silentLogger } from '../../logging/index.ts';
import { BuildQueue } from '../../queue/index.ts';
import { ServiceRegistry } from '../../queue/services/index.ts';
import { freshDatabase, type TestDatabase } from '../../test/support/databases.ts';
import { eventually } from '../../test/support/eventually.ts';
import { FakeGithubServer } from '../../test/support/fake-github-server.ts';
import { githubAuth } from './github-auth.ts';
import { GithubRelay } from './github-relay.ts';

let dir: string;
let keyFile: string;
let publicKeyPem: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-github-app-'));
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs1', format: 'pem' } });
  keyFile = path.join(dir, 'app.pem');
  fs.writeFileSync(keyFile, pair.privateKey, { mode: 0o600 });
  publicKeyPem = pair.publicKey;
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('refuses half an App, an App with a token, and a key file that is not a key, naming the settings', () => {
  expect(githubAuth({})).toBeNull();
  expect(githubAuth({ FLEETCAST_GITHUB_TOKEN: 'ghp_x' })).toEqual({ token: 'ghp_x' });
  expect(() => githubAuth({ FLEETCAST_GITHUB_APP_ID: 1 })).toThrow(/FLEETCAST_GITHUB_APP_INSTALLATION and FLEETCAST_GITHUB_APP_KEY/);
  expect(() => githubAuth({ FLEETCAST_GITHUB_TOKEN: 'ghp_x', FLEETCAST_GITHUB_APP_ID: 1 })).toThrow(/not both/);
  const notAKey = path.join(dir, 'not-a-key');
  fs.writeFileSync(notAKey, 'hello');
  expect(() => githubAuth({ FLEETCAST_GITHUB_APP_ID: 1, FLEETCAST_GITHUB_APP_INSTALLATION: 2, FLEETCAST_GITHUB_APP_KEY: notAKey })).toThrow(/not a PEM private key/);
  expect(() => githubAuth({ FLEETCAST_GITHUB_APP_ID: 1, FLEETCAST_GITHUB_APP_INSTALLATION: 2, FLEETCAST_GITHUB_APP_KEY: path.join(dir, 'missing') })).toThrow(/cannot read FLEETCAST_GITHUB_APP_KEY/);
});

it('sends statuses with an installation token made from the App key', async () => {
  const github = await FakeGithubServer.start('ghp_unused_token_0123456789abcdef', { id: 4242, installationId: 77, publicKeyPem });
  let testDb: TestDatabase | undefined;
  let db: Database | undefined;
  let relay: GithubRelay | undefined;
  try {
    testDb = await freshDatabase('sqlite');
    db = await Database.open({ url: testDb.url, sqlitePath: testDb.sqlitePath });
    const services = new ServiceRegistry(db);
    const queue = new BuildQueue(db, services);
    await services.add({ name: 'api', repo: 'https://github.com/acme/api.git', buildCommand: 'make', artifactPath: 'out/api' });
    const auth = githubAuth({ FLEETCAST_GITHUB_APP_ID: 4242, FLEETCAST_GITHUB_APP_INSTALLATION: 77, FLEETCAST_GITHUB_APP_KEY: keyFile })!;
    relay = await GithubRelay.start(db, { auth, apiUrl: github.url, intervalMs: 50, retryMs: 50, logger: silentLogger() });
    await queue.submit({ service: 'api', commit: 'e'.repeat(40) });
    await eventually(async () => github.of('status').length === 1, 10_000, 'the pending status');
    expect(github.of('status')[0]).toMatchObject({ repo: 'acme/api', state: 'pending' });
    expect(github.installationTokens).toHaveLength(1);
  } finally {
    await relay?.stop();
    await db?.close();
    await testDb?.drop();
    await github.close();
  }
});
