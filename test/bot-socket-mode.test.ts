// The bot in Socket Mode: no HTTP listener; it opens apps.connections.open with the app token
// and takes commands and clicks as envelopes on a WebSocket (a local server here), acking each.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type BotHandle } from '../bot/index.ts';
import { BotTestbed } from './support/bot-testbed.ts';
import { type TestCoordinator } from './support/coordinator.ts';
import { deployableBuild } from './support/deployable-build.ts';
import { FakeSlack } from './support/fake-slack.ts';

let testbed: BotTestbed;
let coordinator: TestCoordinator;
let slack: FakeSlack;
let bot: BotHandle;

beforeAll(async () => {
  testbed = await BotTestbed.start({ regions: ['eu'], dialect: 'sqlite', socketMode: true, slackPermissions: { services: { '*': { deploy: ['U0ALICE'] } } } });
  ({ coordinator, slack, bot } = testbed);
}, 120_000);

afterAll(() => BotTestbed.stop(testbed));

function command(line: string, responseUrl: string, triggerId: string) {
  const [name, ...words] = line.split(' ');
  return { command: name, text: words.join(' '), user_id: 'U0ALICE', user_name: 'alice', channel_id: 'C0DEPLOYS', channel_name: 'deploys', team_id: 'T0FAKE', team_domain: 'fake', api_app_id: 'A0FLEET', token: 'unused', response_url: responseUrl, trigger_id: triggerId };
}

it('connects with the app token and listens on no port', () => {
  expect(bot.mode).toBe('socket');
  expect(bot.url).toBeNull();
  expect(slack.callsOf('apps.connections.open')[0]?.token).toBe(BotTestbed.appToken);
  expect(slack.socketConnections).toBe(1);
});

it('answers a command and deploys on a click, each envelope acked once', async () => {
  const build = await deployableBuild(coordinator.handle, 'api', ['eu']);
  const responseUrl = slack.responseUrl();
  await slack.sendEnvelope('slash_commands', command(`/deploy b${build.id}`, responseUrl, 'socket-1'));
  const preview = await slack.response(responseUrl);
  expect(preview.text).toBe(`Deploy api b${build.id} to eu?`);
  // Slack sending the command again (no ack seen in time) answers nothing more.
  await slack.sendEnvelope('slash_commands', command(`/deploy b${build.id}`, responseUrl, 'socket-1'), 1);

  const actions = preview.blocks.find((b: { type: string }) => b.type === 'actions');
  const click = {
    type: 'block_actions',
    user: { id: 'U0ALICE', username: 'alice', name: 'alice', team_id: 'T0FAKE' },
    api_app_id: 'A0FLEET',
    token: 'unused',
    container: { type: 'message', message_ts: '1.2', channel_id: 'C0DEPLOYS', is_ephemeral: true },
    trigger_id: 'socket-click-1',
    team: { id: 'T0FAKE', domain: 'fake' },
    channel: { id: 'C0DEPLOYS', name: 'deploys' },
    response_url: responseUrl,
    actions: [{ ...actions.elements[0], block_id: actions.block_id, action_ts: '1.3' }],
  };
  await slack.sendEnvelope('interactive', click);
  await slack.sendEnvelope('interactive', click, 1);
  await bot.idle();
  const deployments = (await coordinator.request('GET', '/v1/deployments?service=api')).json.deployments;
  expect(deployments).toHaveLength(1);
  expect(deployments[0]).toMatchObject({ build: `b${build.id}`, requestedBy: 'slack:alice' });
  expect(slack.responsesTo(responseUrl).filter((r) => r.body.text === preview.text)).toHaveLength(1);
  expect(slack.callsOf('chat.postMessage').filter((c) => c.args.channel === 'C0DEPLOYS')).toHaveLength(1);
});
