// Bad input at every door of a running installation (`fleetcast up`, real processes, plus a
// `fleetcast bot` process): CLI arguments, API bodies, webhook payloads, Slack payloads, goal
// values put into the goal bucket by hand, and a damaged regional copy of a build. Each is
// rejected with a code and a message naming the problem, and changes nothing — the builds,
// deployments, locks, audit rows and goals read before and after are the same.
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import Sqlite from 'better-sqlite3';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactObjectName } from '../blobstore/index.ts';
import { connectNats, decodeStatus, statusBucket, statusKey } from '../goalstate/index.ts';
import { FakeSlack } from './support/fake-slack.ts';
import { SampleRepo } from './support/git-repo.ts';
import type { SlackRequests, SlackUserFixture } from './support/slack-requests.ts';
import { poll, storyBuildScript, UpInstallation } from './support/up-installation.ts';
import { declaredSizeAnswer } from './support/early-answer.ts';

const regions = ['eu', 'us'];
const webhookSecret = 'e2e-webhook-secret-0123456789abcdef';
const botApiToken = 'e2e-bad-input-bot-api-token-0123456789';
const signingSecret = 'e2e-bad-input-signing-secret-0123456789';
const alice: SlackUserFixture = { id: 'U0ALICE', name: 'alice' };
const channel = 'C0DEPLOYS';

let fleet: UpInstallation;
let repo: SampleRepo;
let commits: string[];
let slack: FakeSlack;
let requests: SlackRequests;
let first: any;
let second: any;

async function build(commit: string): Promise<any> {
  const queued = await fleet.json(['build', 'api', commit, '--wait']);
  expect(queued.status).toBe('SUCCEEDED');
  return poll(async () => {
    const shown = await fleet.json(['show', queued.id]);
    return shown.deployable === true && shown;
  }, 60_000, `${queued.id} to be deployable`);
}

beforeAll(async () => {
  repo = SampleRepo.create();
  commits = ['1', '2', '3'].map((version) => repo.commit({ 'build.sh': storyBuildScript(256 * 1024), VERSION: `${version}\n` }, `version ${version}`));
  fleet = await UpInstallation.start({
    regions,
    agentsPerRegion: 1,
    env: {
      FLEETCAST_WEBHOOK_SECRET: webhookSecret,
      // A copy is re-hashed by the auditor's next round (every 10 s) once 25 s old: late enough
      // for the agent to meet the damaged copy first, soon enough for the test to see it repaired.
      FLEETCAST_AUDIT_EVERY: '25s',
      // Seeders prepare goals only: a preheat of the newest build could read its regional copy
      // before the test damages it, and the agent would get the good bytes from a peer.
      FLEETCAST_SEEDER_PREHEAT: '0',
      // No seeder makes a core of a damaged copy: the agent goes to the bucket soon.
      FLEETCAST_AGENT_SEEDER_WAIT: '3s',
      FLEETCAST_AGENT_BUCKET_FALLBACK: '2s',
    },
    permissions: {
      tokens: [{ name: 'slack-bot', token: botApiToken, scopes: ['deploy'], actAs: true }],
      slack: { services: { '*': { build: ['U0ALICE'], deploy: ['U0ALICE'], rollback: ['U0ALICE'], lock: ['U0ALICE'] } } },
    },
  });
  slack = await FakeSlack.start();
  requests = await fleet.startBot({ apiToken: botApiToken, signingSecret, slack });
  await fleet.json(['service', 'add', 'api', '--repo', repo.dir, '--build', 'sh build.sh', '--artifact', 'out/app', '--run', './app']);
  first = await build(commits[0]!);
  second = await build(commits[1]!);
  const deployed = await fleet.json(['deploy', first.id, '--wait']);
  expect(deployed.deployment.convergedAt).not.toBeNull();
}, 170_000);

afterAll(async () => {
  await fleet?.stop();
  await slack?.stop();
  repo?.remove();
}, 60_000);

/** What bad input must not change, read through the API (audit rows from the SQL file: the API has no audit route). */
async function state(): Promise<unknown> {
  const builds = (await fleet.api('GET', '/v1/builds?limit=500')).json.builds.map((b: any) => [b.id, b.status]);
  const deployments = (await fleet.api('GET', '/v1/deployments?limit=500')).json.deployments.map((d: any) => [d.id, d.status, d.build]);
  const services = (await fleet.api('GET', '/v1/services')).json.services.map((s: any) => s.name);
  const statuses = [];
  for (const service of services) {
    const status = (await fleet.api('GET', `/v1/services/${service}/status`)).json;
    statuses.push({ service, lock: status.lock, goals: status.regions.map((r: any) => [r.region, r.revision, r.goal?.build ?? null, r.goalError]) });
  }
  const db = new Sqlite(path.join(fleet.dir, 'fleetcast.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const audit = db.prepare('SELECT COUNT(*) AS n, MAX(id) AS last FROM audit').get();
    return { builds, deployments, services, statuses, audit };
  } finally {
    db.close();
  }
}

/** Runs `attempt` and checks that nothing it could change did. */
async function changesNothing<T>(attempt: () => Promise<T>): Promise<T> {
  const before = await state();
  const result = await attempt();
  expect(await state()).toEqual(before);
  return result;
}

describe('CLI arguments', () => {
  const usage: [string, string[], RegExp][] = [
    ['an unknown flag', ['deploy', 'b1', '--bogus'], /unknown option '--bogus'/],
    ['a missing argument', ['deploy'], /missing required argument 'build'/],
    ['a missing commit', ['build', 'api'], /missing required argument 'commit'/],
    ['a bad build id', ['deploy', 'latest'], /build: build ids look like b42/],
    ['a bad build id to show', ['show', 'b-1'], /build ids look like b42/],
    ['a bad commit', ['build', 'api', 'not-a-sha'], /commit: give 7 to 64 hexadecimal characters/],
    ['bad --regions', ['deploy', 'b1', '--regions', 'EU!,us'], /--regions "EU!,us": "EU!" is not a region name/],
    ['empty --regions', ['deploy', 'b1', '--regions', ','], /--regions ",": no region named/],
    ['bad --timeout', ['deploy', 'b2', '--wait', '--timeout', 'soon'], /--timeout soon: write a duration such as 90s/],
    ['a zero --timeout on rollback', ['rollback', 'api', '--wait', '--timeout', '0s'], /--timeout 0s: write a duration/],
    ['a bad service name', ['status', 'Api!'], /name/],
  ];
  for (const [what, args, message] of usage) {
    it(`${what}: exit 2, INVALID_INPUT naming it`, async () => {
      const run = await changesNothing(() => fleet.cli([...args, '--json']));
      expect(run.code, run.stdout + run.stderr).toBe(2);
      const { error } = JSON.parse(run.stdout);
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).toMatch(message);
    });
  }

  it('without --json the same mistake is said on stderr, with the usage hint', async () => {
    const run = await fleet.cli(['deploy', 'b1', '--bogus']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain("unknown option '--bogus'");
    expect(run.stderr).toContain('--help');
  });
});

describe('API bodies', () => {
  const send = (method: string, url: string, body: string | undefined, contentType: string | undefined) =>
    body !== undefined && Buffer.byteLength(body) > 1024 * 1024 ? sendOversize(method, url, body, contentType) : sendWhole(method, url, body, contentType);
  const sendWhole = (method: string, url: string, body: string | undefined, contentType: string | undefined) =>
    fleet.fetch(`${fleet.file.apiUrl}${url}`, { method, headers: { authorization: `Bearer ${fleet.file.token}`, ...(contentType ? { 'content-type': contentType } : {}) }, ...(body === undefined ? {} : { body }) }).then(async (r) => ({ status: r.status, json: await r.json() }));
  // The API answers an oversize body from its Content-Length and closes the connection: a
  // client still writing the rest can see EPIPE before the answer (fetch does, under load). This
  // one sends the first 64 KiB and reads the answer, as a careful client would.
  const sendOversize = async (method: string, url: string, body: string, contentType: string | undefined) => {
    const bytes = Buffer.from(body);
    const headers = { authorization: `Bearer ${fleet.file.token}`, ...(contentType ? { 'content-type': contentType } : {}) };
    const reply = await declaredSizeAnswer(`${fleet.file.apiUrl}${url}`, { ca: fleet.ca, method, headers, declaredBytes: bytes.byteLength, send: bytes.subarray(0, 64 * 1024) });
    return { status: reply.status, json: JSON.parse(reply.body) };
  };
  const json = 'application/json';
  const cases: [string, string, string, string | undefined, string | undefined, number, RegExp][] = [
    ['malformed JSON', 'POST', '/v1/deployments', '{"build": "b1",', json, 400, /not valid JSON/],
    ['a wrong type', 'POST', '/v1/deployments', JSON.stringify({ build: 1 }), json, 400, /build: /],
    ['an unknown field', 'POST', '/v1/deployments', JSON.stringify({ build: 'b1', regionz: ['eu'] }), json, 400, /regionz/],
    ['regions and waves both', 'POST', '/v1/deployments', JSON.stringify({ build: 'b1', regions: ['eu'], waves: [['us']] }), json, 400, /regions or waves, not both/],
    ['an oversize body', 'POST', '/v1/deployments', JSON.stringify({ build: 'b1', reason: 'x'.repeat(2 * 1024 * 1024) }), json, 413, /too large/],
    ['a wrong content type', 'POST', '/v1/deployments', 'build=b1', 'text/plain', 415, /unsupported Content-Type: send JSON/],
    ['a bad build id', 'GET', '/v1/builds/b1x', undefined, undefined, 400, /build ids look like b42/],
    ['a bad deployment id', 'GET', '/v1/deployments/x7', undefined, undefined, 400, /a deployment id: d7/],
    ['a bad service name', 'POST', '/v1/services/..%2Fetc/lock', JSON.stringify({ reason: 'x' }), json, 400, /name/],
    ['an empty lock reason', 'POST', '/v1/services/api/lock', JSON.stringify({ reason: ' ' }), json, 400, /say why the service is locked/],
    ['an unknown field in a rollback', 'POST', '/v1/services/api/rollback', JSON.stringify({ too: 'b1' }), json, 400, /too/],
    ['a bad build to roll back to', 'POST', '/v1/services/api/rollback', JSON.stringify({ to: 'yesterday' }), json, 400, /to: build ids look like b42/],
    ['a bad commit', 'POST', '/v1/builds', JSON.stringify({ service: 'api', commit: 'HEAD' }), json, 400, /commit: give 7 to 64 hexadecimal/],
    ['a bad region in a query', 'POST', '/v1/builds/b1/replicate?region=EU', undefined, undefined, 400, /region/],
  ];
  for (const [what, method, url, body, contentType, status, message] of cases) {
    it(`${what}: ${status} INVALID_INPUT naming it`, async () => {
      const reply = await changesNothing(() => send(method, url, body, contentType));
      expect(reply.status, JSON.stringify(reply.json)).toBe(status);
      expect(reply.json.error.code).toBe('INVALID_INPUT');
      expect(reply.json.error.message).toMatch(message);
    });
  }
});

describe('webhook payloads', () => {
  const sign = (body: string, secret = webhookSecret) => 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
  const hook = (body: string, headers: Record<string, string>) =>
    fleet.fetch(`${fleet.file.apiUrl}/v1/hooks/git`, { method: 'POST', headers: { 'x-github-event': 'push', 'x-github-delivery': randomBytes(8).toString('hex'), ...headers }, body }).then(async (r) => ({ status: r.status, json: await r.json() }));
  const push = (repository: Record<string, string>) => JSON.stringify({ ref: 'refs/heads/main', after: commits[2], repository });

  it('a bad signature: 401 UNAUTHORIZED', async () => {
    const body = push({ url: repo.dir });
    const reply = await changesNothing(() => hook(body, { 'content-type': 'application/json', 'x-hub-signature-256': sign(body, 'not-the-webhook-secret-0123456789') }));
    expect(reply.status).toBe(401);
    expect(reply.json.error).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('x-hub-signature-256') });
    const unsigned = await changesNothing(() => hook(body, { 'content-type': 'application/json' }));
    expect(unsigned.status).toBe(401);
  });

  it('malformed JSON, a wrong content type, a push without its fields: 400 INVALID_INPUT', async () => {
    const broken = '{"ref": "refs/heads/main", ';
    const malformed = await changesNothing(() => hook(broken, { 'content-type': 'application/json', 'x-hub-signature-256': sign(broken) }));
    expect(malformed.status).toBe(400);
    expect(malformed.json.error).toMatchObject({ code: 'INVALID_INPUT', message: 'the request body is not valid JSON' });
    const form = 'payload=%7B%7D';
    const formReply = await changesNothing(() => hook(form, { 'content-type': 'application/x-www-form-urlencoded', 'x-hub-signature-256': sign(form) }));
    expect(formReply.status).toBe(400);
    expect(formReply.json.error.message).toContain('set its content type to application/json');
    const empty = JSON.stringify({ zen: 'keep it simple' });
    const missing = await changesNothing(() => hook(empty, { 'content-type': 'application/json', 'x-hub-signature-256': sign(empty) }));
    expect(missing.status).toBe(400);
    expect(missing.json.error.message).toMatch(/ref: .*after: .*repository: /);
  });

  it('a push of a repository no service is built from: acknowledged, nothing queued, and it says why', async () => {
    const body = push({ clone_url: 'https://git.example.com/someone/else.git' });
    const reply = await changesNothing(() => hook(body, { 'content-type': 'application/json', 'x-hub-signature-256': sign(body) }));
    expect(reply.status).toBe(202);
    expect(reply.json.builds).toEqual([]);
    expect(reply.json.ignored).toContain('no service is built from https://git.example.com/someone/else.git branch main');
  });
});

describe('Slack payloads', () => {
  const place = () => ({ channel, responseUrl: slack.responseUrl() });

  it('a bad signature, a stale timestamp, no signature: 401, nothing done', async () => {
    const forged = place();
    const stale = place();
    await changesNothing(async () => {
      expect((await requests.command(alice, '/lock api forged', forged, { secret: 'not-the-signing-secret-0123456789' })).status).toBe(401);
      expect((await requests.command(alice, '/lock api stale', stale, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 })).status).toBe(401);
      expect((await requests.sendRaw({ body: 'command=%2Flock&text=api+x&user_id=U0ALICE', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(401);
    });
    expect(slack.responsesTo(forged.responseUrl)).toHaveLength(0);
    expect(slack.responsesTo(stale.responseUrl)).toHaveLength(0);
  });

  it('a signed request replayed: 401, done once', async () => {
    const where = place();
    const reply = await requests.command(alice, '/lock api replay test', where);
    expect(reply.status).toBe(200);
    await slack.response(where.responseUrl);
    const unlock = place();
    await requests.command(alice, '/unlock api', unlock);
    await slack.response(unlock.responseUrl);
    const replay = await changesNothing(() => requests.sendRaw(reply.raw));
    expect(replay.status).toBe(401);
    expect(slack.responsesTo(where.responseUrl)).toHaveLength(1);
  });

  it('a malformed payload: 400; an unknown command or button: answered as unknown; nothing done', async () => {
    const malformed = await changesNothing(() => requests.send('payload=%7Bnot-json'));
    expect(malformed.status).toBe(400);
    const command = await changesNothing(() => requests.command(alice, '/frobnicate api', place()));
    expect(command.status).toBe(200);
    expect(JSON.parse(command.text)).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('fleetcast has no command /frobnicate; `/fleetcast help` lists') });
    const button = place();
    const action = await changesNothing(async () => {
      const reply = await requests.click(alice, { action_id: 'nope', value: '{}' }, button);
      expect(reply.status).toBe(200);
      return slack.response(button.responseUrl);
    });
    expect(action.text).toContain('fleetcast does not know the button nope; nothing was done');
    // A known action with a value it cannot read.
    const garbled = place();
    const confirm = await changesNothing(async () => {
      const reply = await requests.click(alice, { action_id: 'deploy_confirm', value: 'not json' }, garbled);
      expect(reply.status).toBe(200);
      return slack.response(garbled.responseUrl);
    });
    expect(JSON.stringify(confirm)).toMatch(/not|invalid|cannot/i);
  });
});

describe('goal values', () => {
  it('a malformed goal: agents keep their build and say so (a refusal in their report), status shows it, the next deploy overwrites it', async () => {
    const before = fleet.installed('api');
    const nc = await connectNats({ url: fleet.file.hub, credsFile: fleet.natsCreds(), caFile: fleet.file.ca!, role: 'the NATS hub' });
    try {
      const kv = await new Kvm(jetstream(nc)).open('goal');
      await kv.put('api.eu', 'garbage{');
    } finally {
      await nc.close();
    }
    // The coordinator's status names the problem for eu; us is untouched.
    const status = await fleet.json(['status', 'api']);
    const eu = status.regions.find((r: any) => r.region === 'eu');
    expect(eu.goal).toBeNull();
    expect(eu.goalError).toMatchObject({ code: 'GOAL_INVALID', message: expect.stringMatching(/goal api\.eu at revision \d+ is malformed \(the value is not JSON\)/) });
    expect(status.regions.find((r: any) => r.region === 'us')).toMatchObject({ goal: { build: first.id }, goalError: null });
    const text = await fleet.cli(['status', 'api']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/eu: GOAL_INVALID: goal api\.eu at revision \d+ is malformed/);
    // So does /status in Slack.
    const asked = { channel, responseUrl: slack.responseUrl() };
    expect((await requests.command(alice, '/status api', asked)).status).toBe(200);
    const slackStatus = JSON.stringify(await slack.response(asked.responseUrl));
    expect(slackStatus).toContain('*eu*: the stored goal is malformed — goal api.eu at revision');
    expect(slackStatus).toContain(`*us*: ${first.id} (`);
    // The agent ignores it, keeps running its build, and says why in its report (and its log).
    const report = await poll(async () => {
      // Read as the coordinator reads it: from the hub, in the region's JetStream domain.
      const hub = await connectNats({ url: fleet.file.hub, credsFile: fleet.natsCreds(), caFile: fleet.file.ca!, role: 'the NATS hub' });
      try {
        const kv = await new Kvm(jetstream(hub, { domain: 'eu' })).open(statusBucket('eu'));
        const entry = await kv.get(statusKey('api', 'eu-1'));
        const value = entry?.operation === 'PUT' ? decodeStatus(entry.value, entry.key) : undefined;
        return value?.refusal?.message.includes('goal api.eu at revision') && value;
      } finally {
        await hub.close();
      }
    }, 30_000, "the eu agent's report to name the malformed goal");
    expect(report).toMatchObject({
      build: first.id,
      state: 'running',
      error: null,
      refusal: { code: 'GOAL_INVALID', purpose: 'goal', message: expect.stringContaining('is malformed (the value is not JSON); it is ignored and the previous goal stays in force') },
    });
    expect(fs.readFileSync(path.join(fleet.dir, 'logs', 'agent-eu-1.log'), 'utf8')).toContain('goal api.eu at revision');
    expect(fleet.installed('api')).toEqual(before);

    // A deploy reads the malformed value's revision and writes over it.
    const deployed = await fleet.json(['deploy', second.id, '--wait']);
    expect(deployed.deployment).toMatchObject({ build: second.id, status: 'CONVERGED' });
    expect(deployed.deployment.convergedAt).not.toBeNull();
    const after = await fleet.json(['status', 'api']);
    for (const region of after.regions) expect(region).toMatchObject({ goal: { build: second.id }, goalError: null, convergence: { running: 1, converged: true } });
    for (const current of Object.values(fleet.installed('api'))) expect(current).toEqual({ build: second.id, sha256: second.digest });
  }, 90_000);
});

describe('corrupted artifacts', () => {
  const withLogs = (err: Error): never => {
    const tail = (name: string, match: (line: string) => boolean) => fs.readFileSync(path.join(fleet.dir, 'logs', name), 'utf8').split('\n').filter(match).slice(-12).join('\n');
    throw new Error(`${err.message}; installed: ${JSON.stringify(fleet.installed('api'))}\nagent log:\n${tail('agent-eu-1.log', () => true)}\ncoordinator:\n${tail('coordinator.log', (l) => /lost|warn|replicat|audit/i.test(l))}`);
  };

  it('a damaged regional copy: the agent refuses its bytes, the canary fails and is rolled back, the auditor copies it again, then the agent installs the real build', async () => {
    const third = await build(commits[2]!);
    const object = path.join(fleet.dir, 'buckets', 'fleetcast-eu', ...artifactObjectName('api', third.id, third.digest).split('/'));
    expect(fs.existsSync(object), object).toBe(true);
    // A new file over the old name: the regional copy may share its inode with the main bucket's.
    const damaged = fs.readFileSync(object);
    damaged[damaged.length - 10] = damaged[damaged.length - 10]! ^ 0xff;
    fs.writeFileSync(`${object}.damaged`, damaged);
    fs.renameSync(`${object}.damaged`, object);

    const deployed = await fleet.json(['deploy', third.id, '--regions', 'eu']);
    expect(deployed.regions).toEqual(['eu']);
    // The eu agent fails the build on its digest, says why (its log keeps it; its report until the
    // retry), and goes on running the build before.
    const refusal = new RegExp(`${third.id} of api in bucket fleetcast-eu .*: sha256 [0-9a-f]{64}, expected ${third.digest}: the regional copy is not the build the goal names; nothing was installed`);
    const agentLog = path.join(fleet.dir, 'logs', 'agent-eu-1.log');
    await poll(() => refusal.test(fs.readFileSync(agentLog, 'utf8')), 60_000, 'the eu agent to refuse the damaged copy').catch(withLogs);
    const eu = (await fleet.json(['status', 'api'])).regions.find((r: any) => r.region === 'eu');
    if (eu.convergence.failed.machines > 0) expect(eu.convergence.failed.examples[0].error).toMatch(refusal);
    // The failed canary is rolled back on its own (issue 19): eu back on the build before, the
    // service locked by fleetcast with the reason, and nothing ever ran the damaged bytes.
    const failed = await poll(async () => {
      const { deployment } = await fleet.json(['deployment', 'show', deployed.id]);
      return deployment.status === 'FAILED' && /^d\d+$/.test(String(deployment.rollback)) && deployment;
    }, 60_000, `${deployed.id} to fail and be rolled back`).catch(withLogs);
    expect(failed.error).toMatch(refusal);
    const locked = (await fleet.json(['status', 'api'])).lock;
    expect(locked).toMatchObject({ lockedBy: 'fleetcast', reason: expect.stringContaining(`automatic rollback of ${deployed.id}`) });
    await poll(() => fleet.installed('api')['eu-1']?.build === second.id, 60_000, 'eu-1 back on the build before').catch(withLogs);
    expect(fleet.installed('api')['eu-1']).toEqual({ build: second.id, sha256: second.digest });

    // The auditor re-hashes the copy, finds it damaged and copies it again.
    const coordinatorLog = path.join(fleet.dir, 'logs', 'coordinator.log');
    await poll(() => fs.readFileSync(coordinatorLog, 'utf8').split('\n').some((line) => line.includes('regional copy lost; copying again') && line.includes(`"build":"${third.id}"`) && line.includes('"region":"eu"')), 90_000, 'the auditor to find the damaged copy').catch(withLogs);
    await poll(async () => (await fleet.json(['show', third.id])).replication.find((r: any) => r.region === 'eu').status === 'DONE', 30_000, 'the copy to be made again').catch(withLogs);
    expect(createHash('sha256').update(fs.readFileSync(object)).digest('hex')).toBe(third.digest);
    // Deployed again once the operator unlocks the service, the agent installs the real bytes.
    await fleet.json(['unlock', 'api']);
    const again = await fleet.json(['deploy', third.id, '--regions', 'eu', '--wait']);
    expect(again.deployment.convergedAt).not.toBeNull();
    expect(fleet.installed('api')['eu-1']).toEqual({ build: third.id, sha256: third.digest });
  }, 150_000);
});
