import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, resolveClientConfig, streamEvents } from '../api-client/index.ts';
import { loadBotConfig, runBot } from '../bot/index.ts';
import { silentLogger } from '../logging/index.ts';
import { FleetcastError } from '../errors/index.ts';
import { ensureLocalTls, type LocalTlsFiles } from '../ops/nats/local-tls.ts';
import { ServerCertificate } from '../trust/index.ts';
import { onlyJson, runCli } from './support/cli.ts';
import { serviceBody, startTestCoordinator, type TestCoordinator } from './support/coordinator.ts';
import { FakeSlack } from './support/fake-slack.ts';
import { SlackRequests } from './support/slack-requests.ts';

const botToken = 'tls-test-bot-api-token-0123456789abcdef';
const signingSecret = 'tls-test-signing-secret-0123456789';

/** The certificate a TLS server at `url` presents, as its SHA-256 fingerprint. */
function presentedFingerprint(url: string, ca: Buffer): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: hostname, port: Number(port), ca }, () => {
      resolve(socket.getPeerX509Certificate()!.fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('TLS on the coordinator API and its /v1/events WebSocket', () => {
  let dir: string;
  let files: LocalTlsFiles;
  let ca: Buffer;
  let c: TestCoordinator;
  let client: ApiClient;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-api-tls-'));
    files = ensureLocalTls(path.join(dir, 'tls'));
    ca = fs.readFileSync(files.ca);
    const permissions = path.join(dir, 'permissions.json');
    fs.writeFileSync(permissions, JSON.stringify({ tokens: [{ name: 'slack-bot', token: botToken, scopes: ['deploy'], actAs: true }], slack: { services: { '*': { lock: ['U0ALICE'] } } } }));
    c = await startTestCoordinator('sqlite', { env: { FLEETCAST_TLS_CERT: files.apiCert, FLEETCAST_TLS_KEY: files.apiKey, FLEETCAST_PERMISSIONS: permissions } });
    client = new ApiClient(resolveClientConfig({ FLEETCAST_DATA_DIR: c.dataDir, FLEETCAST_API_URL: c.url, FLEETCAST_API_TOKEN: c.token, FLEETCAST_API_CA: files.ca }));
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await c?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves https:// and answers a client that trusts its CA', async () => {
    expect(c.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const created = await client.json<{ name: string }>('POST', '/v1/services', serviceBody('api'));
    expect(created).toMatchObject({ status: 201, body: { name: 'api' } });
    expect(await client.get<{ name: string }>('/v1/whoami')).toMatchObject({ name: expect.any(String) });
  });

  it('refuses a plaintext HTTP request: nothing is answered, nothing is changed', async () => {
    const plain = c.url.replace(/^https:/, 'http:');
    const failure = await fetch(`${plain}/v1/services`, {
      method: 'POST',
      headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(serviceBody('plain')),
    }).then(
      (response) => `answered ${response.status}`,
      (err: Error) => err.name,
    );
    expect(failure).toBe('TypeError');
    const lookup = await client.get('/v1/services/plain').catch((e: FleetcastError) => e.code);
    expect(lookup).toBe('NOT_FOUND');
  });

  it('is refused by a client that does not trust the CA, with the setting that fixes it', async () => {
    const untrusting = new ApiClient(resolveClientConfig({ FLEETCAST_DATA_DIR: c.dataDir, FLEETCAST_API_URL: c.url, FLEETCAST_API_TOKEN: c.token }));
    const err = await untrusting.get('/v1/whoami').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetcastError);
    expect((err as FleetcastError).code).toBe('COORDINATOR_UNREACHABLE');
    expect((err as FleetcastError).message).toMatch(/certificate is not trusted.*FLEETCAST_API_CA/);
  });

  it('streams /v1/events over wss:// with the same CA', async () => {
    const build = await client.post<{ id: string }>('/v1/builds', { service: 'api', commit: 'a'.repeat(40) });
    const seen = await streamEvents(client, {
      subscription: () => ({ subscribe: 'build', id: build.id }),
      onMessage: (message) => (message.type === 'build' ? message.build : undefined),
    });
    expect(seen).toMatchObject({ id: build.id, status: 'QUEUED' });
  });

  it('the CLI reaches it with FLEETCAST_API_CA, and says what to set without it', async () => {
    const env = { FLEETCAST_API_URL: c.url, FLEETCAST_API_TOKEN: c.token, FLEETCAST_DATA_DIR: c.dataDir };
    const listed = await runCli(['builds', 'api', '--json'], { ...env, FLEETCAST_API_CA: files.ca });
    expect(listed.code).toBe(0);
    expect(onlyJson(listed)).toMatchObject({ builds: [{ service: 'api', status: 'QUEUED' }] });
    const refused = await runCli(['builds', 'api', '--json'], env);
    expect(refused.code).toBe(1);
    expect(onlyJson(refused)).toMatchObject({ error: { code: 'COORDINATOR_UNREACHABLE', message: expect.stringMatching(/FLEETCAST_API_CA/) } });
  });

  it('the bot listens with TLS and reaches the coordinator over TLS; a plaintext Slack request gets no answer', async () => {
    const slack = await FakeSlack.start();
    const bot = await runBot(
      loadBotConfig({
        env: {
          FLEETCAST_DATA_DIR: dir,
          FLEETCAST_API_URL: c.url,
          FLEETCAST_API_TOKEN: botToken,
          FLEETCAST_API_CA: files.ca,
          FLEETCAST_SLACK_BOT_TOKEN: 'xoxb-tls-test',
          FLEETCAST_SLACK_API_URL: slack.apiUrl,
          FLEETCAST_SLACK_SIGNING_SECRET: signingSecret,
          FLEETCAST_BOT_LISTEN: '127.0.0.1:0',
          FLEETCAST_PERMISSIONS: path.join(dir, 'permissions.json'),
          FLEETCAST_TLS_CERT: files.apiCert,
          FLEETCAST_TLS_KEY: files.apiKey,
        },
      }),
      { logger: silentLogger() },
    );
    try {
      expect(bot.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/slack\/events$/);
      await client.post('/v1/services', serviceBody('chat'));
      const responseUrl = slack.responseUrl();
      const alice = { id: 'U0ALICE', name: 'alice' };
      // /builds is answered from the coordinator's API: the bot's client trusted its CA.
      const reply = await new SlackRequests(bot.url!, signingSecret, ca).command(alice, '/builds chat', { channel: 'C0DEPLOYS', responseUrl });
      expect(reply.status).toBe(200);
      expect(JSON.stringify(await slack.response(responseUrl))).toContain('No builds of *chat* yet');
      const plain = await new SlackRequests(bot.url!.replace(/^https:/, 'http:'), signingSecret).command(alice, '/lock chat plaintext', { channel: 'C0DEPLOYS', responseUrl: slack.responseUrl() }).then(
        (r) => `answered ${r.status}`,
        (err: Error) => err.name,
      );
      expect(plain).toBe('TypeError');
      const audit = JSON.stringify(await client.get('/v1/audit?service=chat'));
      expect(audit).toContain('"action":"service-add"');
      expect(audit).not.toContain('"action":"lock"');
    } finally {
      await bot.stop();
      await slack.stop();
    }
  });

  it('needs both the certificate and its key, and refuses a key of another certificate', async () => {
    expect(() => ServerCertificate.fromSettings({ FLEETCAST_TLS_CERT: files.apiCert })).toThrow(/FLEETCAST_TLS_KEY \(--tls-key\) is not set/);
    expect(() => ServerCertificate.fromSettings({ FLEETCAST_TLS_CERT: files.apiCert, FLEETCAST_TLS_KEY: files.leafKey })).toThrow(/cannot be used together/);
    await expect(startTestCoordinator('sqlite', { env: { FLEETCAST_TLS_KEY: files.apiKey } })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});

describe('certificate renewal without a restart', () => {
  it('serves the renewed pair to new connections and keeps the old one when the new files do not match', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-renew-'));
    try {
      const files = ensureLocalTls(path.join(dir, 'tls'));
      const ca = fs.readFileSync(files.ca);
      const live = { cert: path.join(dir, 'live.crt'), key: path.join(dir, 'live.key') };
      fs.copyFileSync(files.apiCert, live.cert);
      fs.copyFileSync(files.apiKey, live.key);
      const certificate = ServerCertificate.fromSettings({ FLEETCAST_TLS_CERT: live.cert, FLEETCAST_TLS_KEY: live.key })!;
      const server = https.createServer(certificate.current(), (_req, res) => res.end('ok'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
      const reloads: (Error | null)[] = [];
      try {
        const before = await presentedFingerprint(url, ca);
        expect(certificate.reloadIfChanged(server, (err) => reloads.push(err))).toBe('unchanged');

        // Half-renewed: a new certificate whose key is not written yet is not served.
        fs.copyFileSync(files.serverCert, live.cert);
        expect(certificate.reloadIfChanged(server, (err) => reloads.push(err))).toBe('failed');
        expect(await presentedFingerprint(url, ca)).toBe(before);

        // The key follows: the new pair is served, with no restart.
        fs.copyFileSync(files.serverKey, live.key);
        expect(certificate.reloadIfChanged(server, (err) => reloads.push(err))).toBe('reloaded');
        const after = await presentedFingerprint(url, ca);
        expect(after).not.toBe(before);
        expect(after).toBe(new (await import('node:crypto')).X509Certificate(fs.readFileSync(files.serverCert)).fingerprint256);
        expect(reloads.map((err) => err?.message ?? null)).toEqual([expect.stringMatching(/cannot be used together/), null]);
      } finally {
        certificate.stop();
        server.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
