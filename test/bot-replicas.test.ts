// Two bot replicas behind one Slack app (HTTP mode), one coordinator (MariaDB): a signed request
// captured on its way to one replica and replayed to the other is refused (401) and audited,
// because the replicas share the signatures they have seen through the coordinator (SQL).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBotConfig, runBot, type BotHandle } from '../bot/index.ts';
import { silentLogger } from '../logging/index.ts';
import { BotTestbed } from './support/bot-testbed.ts';
import { SlackRequests, type SlackUserFixture } from './support/slack-requests.ts';

const alice: SlackUserFixture = { id: 'U0ALICE', name: 'alice' };
const channel = 'C0DEPLOYS';

let testbed: BotTestbed;
let second: BotHandle;

beforeAll(async () => {
  testbed = await BotTestbed.start({
    regions: ['eu'],
    dialect: 'mysql',
    slackPermissions: { services: { api: { lock: ['U0ALICE'] } } },
  });
  second = await runBot(loadBotConfig({ env: testbed.botEnv({ FLEETCAST_BOT_LISTEN: '127.0.0.1:0' }) }), { logger: silentLogger(), minUpdateIntervalMs: 0 });
}, 120_000);

afterAll(async () => {
  await second?.stop();
  await BotTestbed.stop(testbed);
});

describe('bot replicas', () => {
  it('refuses a request replayed to the other replica, and records the refusal', async () => {
    const toSecond = new SlackRequests(second.url!, BotTestbed.signingSecret);
    const responseUrl = testbed.slack.responseUrl();
    const reply = await testbed.requests.command(alice, '/status api', { channel, responseUrl });
    expect(reply.status, reply.text).toBe(200);
    await testbed.slack.response(responseUrl);

    const replay = await toSecond.sendRaw(reply.raw);
    expect(replay.status).toBe(401);
    // And back to the first replica, as before: its own memory refuses it.
    expect((await testbed.requests.sendRaw(reply.raw)).status).toBe(401);
    expect(testbed.slack.responsesTo(responseUrl)).toHaveLength(1);

    // A new request to the second replica is served.
    const other = testbed.slack.responseUrl();
    expect((await toSecond.command(alice, '/status api', { channel, responseUrl: other })).status).toBe(200);
    await testbed.slack.response(other);

    const audit = await testbed.coordinator.request('GET', '/v1/audit?action=slack-request');
    expect(audit.status).toBe(200);
    expect(audit.json.entries).toEqual([expect.objectContaining({ action: 'slack-request', actor: 'slack-bot', result: 'refused' })]);
  });
});
