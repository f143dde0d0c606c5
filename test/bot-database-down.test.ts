// On-call rolls back from Slack while the coordinator's database is down (kill -9): the preview
// says what it could not look up and still offers the rollback, the rollback runs from the
// goal history, and the audit row naming the Slack user reaches SQL once it is back.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type BotHandle } from '../bot/index.ts';
import { isPlaceholderDeploymentId, selectAudit } from '../coordinator/index.ts';
import { BotTestbed } from './support/bot-testbed.ts';
import { serviceBody, type TestCoordinator } from './support/coordinator.ts';
import { deployableBuild } from './support/deployable-build.ts';
import { FakeSlack } from './support/fake-slack.ts';
import { PrivateMariaDb } from './support/private-mariadb.ts';

const regions = ['eu', 'us'];
const carol = { id: 'U0CAROL', name: 'carol' };
let testbed: BotTestbed;
let server: PrivateMariaDb;
let coordinator: TestCoordinator;
let slack: FakeSlack;
let bot: BotHandle;
let databaseDown = false;

beforeAll(async () => {
  server = await PrivateMariaDb.start();
  testbed = await BotTestbed.start({
    regions,
    dialect: 'mysql',
    services: [],
    slackPermissions: { services: { '*': { rollback: ['S0ONCALL'] } } },
    coordinatorEnv: { FLEETCAST_DATABASE_URL: server.url },
    coordinatorOverrides: { spoolFlushMs: 300 },
    fakeSlack: { groups: { S0ONCALL: ['U0CAROL'] } },
  });
  ({ coordinator, slack, bot } = testbed);
}, 120_000);

afterAll(async () => {
  // A coordinator stops cleanly only with its database up (its loops finish their rounds).
  await BotTestbed.stop(testbed, async () => {
    if (databaseDown) await server.startServer();
  });
  await server?.destroy();
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
  const requests = testbed.requests;
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
