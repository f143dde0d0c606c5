// Announcements of what was not done through the bot (issue 23): a CLI deploy, its end, a
// freeze, a lock, continuous deploy's decisions and a failed build pushed by the webhook all reach
// the service's channel — the real Bolt app, a real coordinator (MariaDB, NATS), Slack's Web API
// faked at its boundary and called through the real @slack/web-api client.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotTestbed } from './support/bot-testbed.ts';
import { runCli } from './support/cli.ts';
import { deployableBuild } from './support/deployable-build.ts';
import { eventually } from './support/eventually.ts';
import type { SlackUserFixture } from './support/slack-requests.ts';

const regions = ['eu', 'us'];
let testbed: BotTestbed;

beforeAll(async () => {
  testbed = await BotTestbed.start({
    regions,
    dialect: 'mysql',
    services: ['api', 'web', 'shop'],
    slackPermissions: { services: { '*': { deploy: ['U0ALICE'] } } },
    coordinatorEnv: { FLEETCAST_CD_INTERVAL: '200ms' },
    botEnv: { FLEETCAST_SLACK_CHANNELS: 'api=C0APIANN,*=C0ANNOUNCE' },
  });
}, 120_000);

afterAll(() => BotTestbed.stop(testbed));

const cli = (args: string[]) => runCli(args, testbed.coordinator.env);
/** The texts posted in `channel` so far. */
const postedIn = (channel: string) => testbed.slack.callsOf('chat.postMessage').filter((c) => c.args.channel === channel).map((c) => `${String(c.args.text)} ${JSON.stringify(c.args.blocks ?? [])}`);
const announced = (channel: string, ...parts: string[]) => eventually(() => postedIn(channel).find((text) => parts.every((part) => text.includes(part))), 20_000, `an announcement in ${channel} with ${parts.join(', ')}`);

describe('announcements of what was not done in Slack', () => {
  it('a CLI deploy is announced in the service channel when it starts and when it converges', async () => {
    const build = await deployableBuild(testbed.coordinator.handle, 'api', regions);
    const run = await cli(['deploy', `b${build.id}`, '--reason', 'from the terminal', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const deployment = JSON.parse(run.stdout).id as string;
    expect(await announced('C0APIANN', 'local-admin', 'started deploying', `b${build.id}`, deployment, 'from the terminal')).toBeTruthy();
    expect(await announced('C0APIANN', `Deploy ${deployment}`, 'CONVERGED')).toBeTruthy();
    // Other services' channels hear nothing of it.
    expect(postedIn('C0ANNOUNCE').some((text) => text.includes(deployment))).toBe(false);
  });

  it('a lock, a freeze and its removal are announced; continuous deploy says why it waits, then deploys', async () => {
    expect((await cli(['lock', 'web', '--reason', 'db migration'])).code).toBe(0);
    await announced('C0ANNOUNCE', 'locked', 'web', 'db migration');
    expect((await cli(['unlock', 'web'])).code).toBe(0);
    await announced('C0ANNOUNCE', 'unlocked', 'web');

    const freeze = JSON.parse((await cli(['freeze', 'add', '--service', 'web', '--until', '2099-01-01T00:00:00Z', '--reason', 'year-end freeze', '--json'])).stdout);
    await announced('C0ANNOUNCE', 'froze deploys', 'web', 'year-end freeze', freeze.id);

    expect((await cli(['service', 'cd', 'on', 'web'])).code).toBe(0);
    const build = await deployableBuild(testbed.coordinator.handle, 'web', regions);
    await announced('C0ANNOUNCE', 'Continuous deploy', `b${build.id} waits`, 'year-end freeze');

    expect((await cli(['freeze', 'remove', freeze.id])).code).toBe(0);
    await announced('C0ANNOUNCE', 'removed freeze', freeze.id);
    await announced('C0ANNOUNCE', 'continuous deploy started deploying', `b${build.id}`);
  });

  it('a build that failed with nobody in Slack waiting for it is announced with its reason', async () => {
    const { queue } = testbed.coordinator.handle;
    const { build } = await queue.submit({ service: 'api', commit: randomBytes(20).toString('hex'), requestedBy: 'webhook' });
    const claimed = await queue.claim('test-builder');
    expect(claimed?.build.id).toBe(build.id);
    await queue.fail(claimed!.claim, 'make: *** [all] Error 2');
    await announced('C0APIANN', `b${build.id}`, 'FAILED', 'make: *** [all] Error 2');
  });
});

describe('a freeze seen from Slack', () => {
  const alice: SlackUserFixture = { id: 'U0ALICE', name: 'alice' };
  it('/deploy in a freeze is refused at Deploy, naming the window; nothing is deployed', async () => {
    const { coordinator, slack } = testbed;
    const build = await deployableBuild(coordinator.handle, 'shop', regions);
    const responseUrl = slack.responseUrl();
    expect((await testbed.requests.command(alice, `/deploy b${build.id}`, { channel: 'C0DEPLOYS', responseUrl })).status).toBe(200);
    const preview = await slack.response(responseUrl);
    const freeze = JSON.parse((await cli(['freeze', 'add', '--service', 'shop', '--until', '2099-01-01T00:00:00Z', '--reason', 'release train stopped', '--json'])).stdout);
    const deployButton = (preview.blocks as { type: string; block_id: string; elements: { action_id: string; value: string }[] }[]).find((b) => b.type === 'actions')!;
    await testbed.requests.click(alice, { ...deployButton.elements[0]!, block_id: deployButton.block_id }, { channel: 'C0DEPLOYS', responseUrl });
    const refusal = await slack.response(responseUrl, (b) => String(b.text).includes('frozen'));
    const text = JSON.stringify(refusal.blocks) + refusal.text;
    expect(text).toContain('Deploys are frozen');
    expect(text).toContain(freeze.id);
    expect(text).toContain('release train stopped');
    await testbed.bot.idle();
    expect((await coordinator.request('GET', '/v1/deployments?service=shop')).json.deployments).toEqual([]);
  });
});
