// Authorization and audit through the real processes of `fleetcast up`: a token limited to one
// service, a relaying token bounded by the Slack grants of the person it names, refused tokens
// in the audit, `fleetcast audit` listing every change of a short story, the permissions file
// reloaded on SIGHUP, the webhook's body limit and its delivery ids across a coordinator kill,
// and the installation's secrets kept private on disk.
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenSha256 } from '../api-contract/index.ts';
import { SampleRepo } from './support/git-repo.ts';
import { poll, UpInstallation } from './support/up-installation.ts';
import { upFilePath, type UpFile } from '../up/index.ts';
import { declaredSizeAnswer } from './support/early-answer.ts';

const tokens = { web: 'e2e-web-only-token-0123456789abcdef', bot: 'e2e-relay-bot-token-0123456789abcdef', later: 'e2e-given-on-sighup-0123456789abcdef' };
const alice = 'slack:U0ALICE (alice)';
const bob = 'slack:U0BOB (bob)';
const webhookSecret = 'e2e-auth-webhook-secret-0123456789';

let fleet: UpInstallation;
let repo: SampleRepo;
let commit: string;
let permissionsFile: string;

const permissions = () => ({
  tokens: [
    { name: 'web-ci', sha256: tokenSha256(tokens.web), scopes: ['deploy'], services: ['web'] },
    { name: 'slack-bot', sha256: tokenSha256(tokens.bot), scopes: ['deploy'], actAs: true },
  ],
  slack: { services: { web: { deploy: ['U0ALICE'], lock: ['U0ALICE'] }, api: { lock: ['U0ALICE'] } } },
});

async function call(method: string, url: string, token: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const response = await fleet.fetch(`${fleet.file.apiUrl}${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

beforeAll(async () => {
  repo = SampleRepo.create();
  commit = repo.commit({ 'build.sh': '#!/bin/sh\nexit 1\n' }, 'a build that fails at once');
  fleet = await UpInstallation.start({ regions: ['eu'], agentsPerRegion: 1, permissions: permissions(), env: { FLEETCAST_WEBHOOK_SECRET: webhookSecret } });
  permissionsFile = path.join(path.dirname(fleet.dir), 'permissions.json');
  for (const name of ['api', 'web']) await fleet.json(['service', 'add', name, '--repo', repo.dir, '--build', 'sh build.sh', '--artifact', 'out/app']);
}, 150_000);

afterAll(async () => {
  await fleet?.stop();
  repo?.remove();
}, 60_000);

describe('per-service tokens through the CLI', () => {
  it('a token limited to web cannot deploy api: exit 3, FORBIDDEN naming the service', async () => {
    const build = await fleet.json(['build', 'api', commit]);
    const run = await fleet.cli(['deploy', build.id, '--json'], { FLEETCAST_API_TOKEN: tokens.web });
    expect(run.code, run.stdout + run.stderr).toBe(3);
    const { error } = JSON.parse(run.stdout);
    expect(error).toMatchObject({ code: 'FORBIDDEN', details: { token: 'web-ci', service: 'api' } });
    expect(error.message).toContain('may not deploy on service api');
    expect((await fleet.cli(['build', 'web', commit, '--json'], { FLEETCAST_API_TOKEN: tokens.web })).code).toBe(0);
  });
});

describe('a relaying token', () => {
  it('cannot lock or deploy for a Slack user without the grant, and can for one with it', async () => {
    const bobLocks = await call('POST', '/v1/services/web/lock', tokens.bot, { reason: 'bob tries' }, { 'x-fleetcast-on-behalf-of': bob });
    expect(bobLocks.status).toBe(403);
    expect(bobLocks.json.error.message).toMatch(/slack:bob \(slack:U0BOB\) may not .*service web/);
    const apiBuild = (await fleet.json(['builds', 'api'])).builds[0].id;
    const aliceDeploysApi = await call('POST', '/v1/deployments', tokens.bot, { build: apiBuild }, { 'x-fleetcast-on-behalf-of': alice });
    expect(aliceDeploysApi.status).toBe(403);
    expect(aliceDeploysApi.json.error.details).toMatchObject({ service: 'api', slackAction: 'deploy' });
    expect((await fleet.json(['status', 'web'])).lock).toBeNull();
    const aliceLocks = await call('POST', '/v1/services/web/lock', tokens.bot, { reason: 'alice may' }, { 'x-fleetcast-on-behalf-of': alice });
    expect(aliceLocks.status, JSON.stringify(aliceLocks.json)).toBe(201);
    expect(aliceLocks.json.lockedBy).toBe('slack:alice');
    expect(await fleet.json(['unlock', 'web'])).toMatchObject({ service: 'web' });
  });
});

describe('the audit', () => {
  it('records refused tokens: unknown ones (401) and refused ones (403)', async () => {
    expect((await call('GET', '/v1/builds', 'a-token-nobody-was-given-0123456789')).status).toBe(401);
    const refused = await fleet.json(['audit', '--result', 'refused']);
    const rows = refused.entries.map((e: any) => [e.actor, e.action, e.target]);
    expect(rows).toEqual(
      expect.arrayContaining([
        ['unknown-token', 'request', '/v1/builds'],
        ['web-ci', 'deploy', 'api'],
        ['slack:bob', 'lock', 'web'],
        ['slack:alice', 'deploy', 'api'],
      ]),
    );
    const unknown = refused.entries.find((e: any) => e.actor === 'unknown-token');
    expect(unknown.detail).toMatchObject({ tokenSha256: tokenSha256('a-token-nobody-was-given-0123456789').slice(0, 12), error: { code: 'UNAUTHORIZED' } });
    // Only an admin reads it.
    expect((await fleet.cli(['audit', '--json'], { FLEETCAST_API_TOKEN: tokens.web })).code).toBe(3);
  });

  it('`fleetcast audit --json` lists every change of the story, and --jsonl exports them', async () => {
    const ok = (await fleet.json(['audit', '--result', 'ok'])).entries.map((e: any) => [e.actor, e.action, e.target]).reverse();
    expect(ok).toEqual([
      ['local-admin', 'service-add', 'api'],
      ['local-admin', 'service-add', 'web'],
      ['local-admin', 'build', 'api'],
      ['web-ci', 'build', 'web'],
      ['slack:alice', 'lock', 'web'],
      ['local-admin', 'unlock', 'web'],
    ]);
    const run = await fleet.cli(['audit', '--service', 'web', '--jsonl', '--limit', '2']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.every((entry) => entry.target === 'web')).toBe(true);
    expect(lines.length).toBeGreaterThan(2); // every page, not just the first
    expect(new Set(lines.map((entry) => entry.id)).size).toBe(lines.length);
  });
});

describe('the permissions file', () => {
  it('is read again on SIGHUP, without a restart', async () => {
    expect((await call('GET', '/v1/whoami', tokens.later)).status).toBe(401);
    const coordinator = fleet.file.processes.find((p) => p.role === 'coordinator')!;
    // The web-ci entry gets another token's hash: same size, and the old mtime put back, so the
    // file watch sees no change and only the signal can make the coordinator read it.
    const before = fs.statSync(permissionsFile);
    fs.writeFileSync(permissionsFile, fs.readFileSync(permissionsFile, 'utf8').replace(tokenSha256(tokens.web), tokenSha256(tokens.later)));
    fs.utimesSync(permissionsFile, before.atimeMs / 1000, before.mtimeMs / 1000);
    expect(fs.statSync(permissionsFile).mtimeMs).toBe(before.mtimeMs);
    expect(fs.statSync(permissionsFile).size).toBe(before.size);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await call('GET', '/v1/whoami', tokens.later)).status).toBe(401);
    process.kill(coordinator.pid, 'SIGHUP');
    await poll(async () => (await call('GET', '/v1/whoami', tokens.later)).status === 200, 10_000, 'the new token to work');
    expect((await call('GET', '/v1/whoami', tokens.later)).json.name).toBe('web-ci');
    expect((await call('GET', '/v1/whoami', tokens.web)).status).toBe(401);
    expect(fleet.file.processes.find((p) => p.role === 'coordinator')!.pid).toBe(coordinator.pid);
    expect((await fleet.json(['status', 'web'])).service).toBe('web');
  });
});

describe('the webhook', () => {
  const hook = (body: BodyInit, headers: Record<string, string>) =>
    fleet.fetch(`${fleet.file.apiUrl}/v1/hooks/git`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'push', ...headers }, body }).then(async (r) => ({
      status: r.status,
      json: (await r.json()) as any,
    }));
  const upFile = () => JSON.parse(fs.readFileSync(upFilePath(fleet.dir), 'utf8')) as UpFile;
  const signed = (body: string, delivery: string) => hook(body, { 'x-github-delivery': delivery, 'x-hub-signature-256': 'sha256=' + createHmac('sha256', webhookSecret).update(body).digest('hex') });

  it('refuses a 20 MB unsigned post without reading it (the limit is 1 MiB)', async () => {
    // Only the headers are sent: the coordinator answers from the declared length, before any byte of the body.
    const reply = await declaredSizeAnswer(`${fleet.file.apiUrl}/v1/hooks/git`, { ca: fleet.ca, headers: { 'content-type': 'application/json', 'x-github-event': 'push' }, declaredBytes: 20 * 1024 * 1024 });
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body).error.message).toContain('FLEETCAST_WEBHOOK_MAX_BODY');
  });

  it('queues nothing new for the same push under a new delivery id, also after the coordinator was killed', async () => {
    const pushed = repo.commit({ 'build.sh': '#!/bin/sh\nexit 1\n', VERSION: 'pushed\n' }, 'pushed');
    const body = JSON.stringify({ ref: 'refs/heads/main', after: pushed, repository: { url: repo.dir } });
    const first = await signed(body, 'delivery-1');
    expect(first.status).toBe(202);
    expect(first.json.builds.map((b: any) => b.service).sort()).toEqual(['api', 'web']);
    const ids = first.json.builds.map((b: any) => b.id).sort();
    expect((await signed(body, 'delivery-2')).json.builds.map((b: any) => b.id).sort()).toEqual(ids);

    const coordinator = upFile().processes.find((p) => p.role === 'coordinator')!;
    process.kill(coordinator.pid, 'SIGKILL');
    await poll(() => upFile().processes.find((p) => p.role === 'coordinator' && p.pid !== coordinator.pid), 60_000, 'up to restart the coordinator');
    await poll(async () => (await fleet.fetch(`${fleet.file.apiUrl}/healthz`).catch(() => null))?.status === 200, 60_000, 'the coordinator to answer');
    const replayed = await signed(body, 'delivery-1');
    expect(replayed.json).toMatchObject({ replay: true });
    expect(replayed.json.builds.map((b: any) => b.id).sort()).toEqual(ids);
    expect((await signed(body, 'delivery-3')).json.builds.map((b: any) => b.id).sort()).toEqual(ids);
    const builds = (await fleet.json(['builds', '--limit', '100'])).builds.filter((b: any) => b.commit === pushed);
    expect(builds).toHaveLength(2);
    const audited = (await fleet.json(['audit', '--actor', 'webhook'])).entries;
    expect(audited.map((e: any) => [e.action, e.target]).sort()).toEqual([
      ['build', 'api'],
      ['build', 'web'],
    ]);
  }, 150_000);
});

describe('secrets on disk', () => {
  it('keeps the installation directory 0700 and its secrets 0600', () => {
    const mode = (file: string) => (fs.statSync(path.join(fleet.dir, file)).mode & 0o777).toString(8);
    expect(mode('.')).toBe('700');
    for (const file of ['up.json', 'api-token', 'goal-signing.key', 'fleetcast.sqlite']) expect(mode(file), file).toBe('600');
  });
});
