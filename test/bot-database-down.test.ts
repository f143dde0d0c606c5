// On-call rolls back from Slack while the coordinator's database is down (kill -9): the preview
// says what it could not look up and still offers the rollback, the rollback runs from the
// goal history, and the audit row naming the Slack user reaches SQL once it is back.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadBotConfig, runBot, type BotHandle } from '../bot/index.ts';
import { isPlaceholderDeploymentId, selectAudit } from '../coordinator/index.ts';
import { silentLogger } from '../logging/index.ts';
import { serviceBody, startTestCoordinator, type TestCoordinator } from './support/coordinator.ts';
import { deployableBuild } from './support/deployable-build.ts';
import { FakeSlack } from './support/fake-slack.ts';
import { TestNatsCluster } from './support/nats-cluster.ts';
import { PrivateMariaDb } from './support/private-mariadb.ts';
import { SlackRequests } from './support/slack-requests.ts';

const regions = ['eu', 'us'];
const signingSecret = 'db-down-signing-secret-0123456789';
const botApiToken = 'db-down-bot-api-token-0123456789';
const carol = { id: 'U0CAROL', name: 'carol' };
let cluster: TestNatsCluster;
let server: PrivateMariaDb;
let coordinator: TestCoordinator;
let slack: FakeSlack;
let bot: BotHandle;
let dir: string;
let databaseDown = false;

beforeAll(async () => {
  cluster = await TestNatsCluster.start(regions);
  server = await PrivateMariaDb.start();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-bot-db-'));
  const permissions = path.join(dir, 'permissions.json');
  fs.writeFileSync(permissions, JSON.stringify({ tokens: [{ name: 'slack-bot', token: botApiToken, scopes: ['deploy'], actAs: true }], slack: { services: { '*': { rollback: ['S0ONCALL'] } } } }));
  coordinator = await startTestCoordinator('mysql', {
    env: {
      FLEETCAST_DATABASE_URL: server.url,
      FLEETCAST_NATS_URL: cluster.urls.hub,
      FLEETCAST_REGIONS: regions.join(','),
      FLEETCAST_REPLICATION_CONCURRENCY: '0',
      FLEETCAST_AUDIT_EVERY: '7d',
      FLEETCAST_PERMISSIONS: permissions,
    },
    overrides: { spoolFlushMs: 300 },
  });
  slack = await FakeSlack.start({ groups: { S0ONCALL: ['U0CAROL'] } });
  bot = await runBot(
    loadBotConfig({
      env: {
        FLEETCAST_DATA_DIR: dir,
        FLEETCAST_API_URL: coordinator.url,
        FLEETCAST_API_TOKEN: botApiToken,
        FLEETCAST_SLACK_BOT_TOKEN: 'xoxb-db-down',
        FLEETCAST_SLACK_SIGNING_SECRET: signingSecret,
        FLEETCAST_SLACK_API_URL: slack.apiUrl,
        FLEETCAST_BOT_LISTEN: '127.0.0.1:0',
        FLEETCAST_PERMISSIONS: permissions,
      },
    }),
    { logger: silentLogger(), minUpdateIntervalMs: 0 },
  );
}, 120_000);

afterAll(async () => {
  await bot?.stop();
  await slack?.stop();
  // A coordinator stops cleanly only with its database up (its loops finish their rounds).
  if (databaseDown) await server.startServer();
  await coordinator?.stop();
  await server?.destroy();
  await cluster?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it('rolls back from Slack with the database killed; the audit row names the Slack user once it is back', async () => {
  expect((await coordinator.request('POST', '/v1/services', { body: serviceBody('api') })).status).toBe(201);
  const first = await deployableBuild(coordinator.handle, 'api', regions);
  const second = await deployableBuild(coordinator.handle, 'api', regions);
  for (const build of [first, second]) {
    const reply = await coordinator.request('POST', '/v1/deployments', { body: { build: `b${build.id}` } });
    expect(reply.status).toBe(201);
    // Every wave written (no machines: each converges at once) before the database goes.
    await expect.poll(async () => (await coordinator.request('GET', `/v1/deployments/${reply.json.id}`)).json.convergedAt, { timeout: 20_000, interval: 50 }).not.toBeNull();
  }

  await server.kill9();
  databaseDown = true;
  const requests = new SlackRequests(bot.url!, signingSecret);
  const responseUrl = slack.responseUrl();
  const place = { channel: 'C0INCIDENT', responseUrl };
  expect((await requests.command(carol, '/rollback api', place)).status).toBe(200);
  const preview = await slack.response(responseUrl);
  const text = JSON.stringify(preview.blocks);
  expect(text).toContain('Roll back api?');
  expect(text).toContain('goes back to *the build deployed before*');
  expect(text).toContain('the coordinator rolls back from the goal history without it');
  const actions = preview.blocks.find((b: { type: string }) => b.type === 'actions');
  await requests.click(carol, { ...actions.elements[0], block_id: actions.block_id }, place);
  await bot.idle();

  const posted = slack.callsOf('chat.postMessage').find((c) => c.args.channel === 'C0INCIDENT')!;
  const final = slack.callsOf('chat.update').filter((c) => c.args.ts === posted.result.ts).at(-1)!;
  const progress = JSON.stringify(final.args.blocks);
  expect(progress).toContain(`Rolled back api to b${first.id} in eu, us`);
  expect(progress).toContain("the coordinator's database is down: this is recorded there once it is back");
  const placeholder = /\((d9\d{15})\)/.exec(final.args.text)?.[1];
  expect(placeholder && isPlaceholderDeploymentId(placeholder)).toBe(true);

  await server.startServer();
  databaseDown = false;
  const db = coordinator.handle.db;
  await expect.poll(async () => (await selectAudit(db, 'api').catch(() => [])).filter((row) => row.action === 'rollback').length, { timeout: 30_000, interval: 300 }).toBe(1);
  const [audit] = (await selectAudit(db, 'api')).filter((row) => row.action === 'rollback');
  expect(audit).toMatchObject({ actor: 'slack:carol', result: 'ok' });
  expect(JSON.parse(String(audit!.detail))).toMatchObject({ withoutDatabase: true, placeholderDeployment: placeholder, via: { token: 'slack-bot', id: 'slack:U0CAROL' } });
  const status = (await coordinator.request('GET', '/v1/services/api/status')).json;
  expect(status.lock).toMatchObject({ lockedBy: 'slack:carol' });
}, 120_000);
