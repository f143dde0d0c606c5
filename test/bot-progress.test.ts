// The one progress message of a deploy from Slack, against machines that report through their
// region's NATS leaf as agents do: it follows the canary wave, the downloads, the next wave,
// and ends when every machine runs the build — or when a failed machine halts the rollout.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type BotHandle } from '../bot/index.ts';
import { StatusReporter, type StatusUpdate } from '../goalstate/index.ts';
import { eventually } from './support/eventually.ts';
import { BotTestbed } from './support/bot-testbed.ts';
import { asAgentReports, type TestCoordinator } from './support/coordinator.ts';
import { deployableBuild } from './support/deployable-build.ts';
import { FakeSlack, type SlackCall } from './support/fake-slack.ts';
import { SlackRequests } from './support/slack-requests.ts';

const regions = ['eu', 'us'];
const alice = { id: 'U0ALICE', name: 'alice' };
const channel = 'C0DEPLOYS';
let testbed: BotTestbed;
let coordinator: TestCoordinator;
let slack: FakeSlack;
let requests: SlackRequests;
let bot: BotHandle;
const machines: Record<string, StatusReporter> = {};

const report = async (machine: string, update: StatusUpdate) => machines[machine]!.report('api', await asAgentReports(coordinator.handle, 'api', machine.split('-')[0]!, update));

beforeAll(async () => {
  testbed = await BotTestbed.start({ regions, dialect: 'mysql', slackPermissions: { services: { api: { deploy: ['U0ALICE'] } } }, botEnv: { FLEETCAST_SLACK_CHANNELS: '*=C0ANNOUNCE' } });
  ({ coordinator, slack, requests, bot } = testbed);
  for (const [region, machine] of [['eu', 'eu-1'], ['eu', 'eu-2'], ['us', 'us-1']] as const) {
    machines[machine] = await StatusReporter.connect({ url: testbed.cluster.urls.agents[region]!, region, machine, progressIntervalMs: 50, connect: { timeoutMs: 2_000 } });
    await report(machine, { build: 'b0', state: 'running' });
  }
  await eventually(async () => (await coordinator.handle.deploys.status('api')).regions.every((r) => r.convergence.machines > 0), 20_000, 'every machine reported');
}, 120_000);

afterAll(() =>
  BotTestbed.stop(testbed, async () => {
    for (const reporter of Object.values(machines)) await reporter.close();
  }),
);

/** Deploys from Slack as alice; returns the progress message's versions as they come (posted, then updated). */
async function deployFromSlack(buildId: number): Promise<() => string[]> {
  const responseUrl = slack.responseUrl();
  const place = { channel, responseUrl };
  expect((await requests.command(alice, `/deploy b${buildId}`, place)).status).toBe(200);
  const preview = await slack.response(responseUrl);
  const actions = preview.blocks.find((b: { type: string }) => b.type === 'actions');
  const already = slack.callsOf('chat.postMessage').length;
  await requests.click(alice, { ...actions.elements[0], block_id: actions.block_id }, place);
  const posted = await slack.waitFor(() => slack.callsOf('chat.postMessage').slice(already).find((c) => c.args.channel === channel), 'the progress message');
  const text = (call: SlackCall) => JSON.stringify(call.args.blocks);
  return () => [text(posted), ...slack.callsOf('chat.update').filter((c) => c.args.ts === posted.result.ts).map(text)];
}

it('keeps one message updated from the canary to every machine running the build', async () => {
  const build = await deployableBuild(coordinator.handle, 'api', regions);
  const id = `b${build.id}`;
  const versions = await deployFromSlack(build.id);
  await eventually(() => versions().some((v) => v.includes('*eu* 0/2 running') && v.includes('*us* waits for the wave before it')), 10_000, 'the canary written, us waiting');

  await report('eu-1', { build: id, state: 'running' });
  await report('eu-2', { build: id, state: 'downloading', bytes: 600, total: 1234 });
  await eventually(() => versions().some((v) => v.includes(`*eu* 1/2 running ${id} · 1 downloading (600 B of 1.2 KiB)`)), 10_000, 'the canary half-way');

  await report('eu-2', { build: id, state: 'running' });
  await eventually(() => versions().some((v) => v.includes(`:white_check_mark: *eu* 2/2 running ${id}`) && v.includes(`*us* 0/1 running ${id}`)), 10_000, 'the second wave written');
  await report('us-1', { build: id, state: 'running' });
  await bot.idle();

  const all = versions();
  const final = all.at(-1)!;
  expect(final).toContain(`api ${id} runs in eu, us`);
  expect(final).toContain(`:white_check_mark: *us* 1/1 running ${id}`);
  expect(final).toContain('Waves: :white_check_mark: 1. eu  :white_check_mark: 2. us');
  // One message throughout: posted once, every later version an update of it.
  expect(slack.callsOf('chat.postMessage').filter((c) => c.args.channel === channel)).toHaveLength(1);
  expect(all.length).toBeGreaterThanOrEqual(4);
  const announced = slack.callsOf('chat.postMessage').filter((c) => c.args.channel === 'C0ANNOUNCE');
  expect(JSON.stringify(announced.at(-1)?.args.blocks)).toContain(`api ${id} runs in eu, us`);
});

it('ends the message when a failed canary machine fails the rollout, naming the machine and the automatic rollback', async () => {
  const build = await deployableBuild(coordinator.handle, 'api', regions);
  const id = `b${build.id}`;
  const versions = await deployFromSlack(build.id);
  await eventually(() => versions().some((v) => v.includes('*eu* 0/2 running')), 10_000, 'the canary written');
  await report('eu-1', { build: id, state: 'running' });
  await report('eu-2', { build: id, state: 'failed', error: 'health check failed: connection refused on :8080' });
  await bot.idle();
  const final = versions().at(-1)!;
  // Rolled back automatically before the message ends: the canary is back on the build before.
  const rollback = (await coordinator.handle.deploys.list({ service: 'api', limit: 1 }))[0]!;
  expect(final).toContain(`Deploy of api ${id} failed (`);
  expect(final).toContain(`; rolled back (${rollback.id})`);
  expect(final).toContain(`rolled back automatically: eu back on`);
  expect(final).toContain('`eu-2`: health check failed: connection refused on :8080');
  expect(final).toContain('*us* not deployed: the rollout stopped before its wave');
  expect((await coordinator.handle.deploys.status('api')).regions.find((r) => r.region === 'us')!.goal?.build).not.toBe(id);
  expect((await coordinator.handle.deploys.status('api')).lock).toMatchObject({ lockedBy: 'fleetcast' });
  await coordinator.handle.deploys.unlock('api', { by: 'test' });
});

it('Pause, Promote and Abort on the progress message act for the clicker (who needs /deploy permission), once per click', async () => {
  const bob = { id: 'U0BOB', name: 'bob' };
  const build = await deployableBuild(coordinator.handle, 'api', regions);
  const id = `b${build.id}`;
  const versions = await deployFromSlack(build.id);
  await eventually(() => versions().some((v) => v.includes('*eu* 0/2 running')), 10_000, 'the canary written');
  const [deployment] = await coordinator.handle.deploys.list({ service: 'api', limit: 1 });
  const posted = slack.callsOf('chat.postMessage').filter((c) => c.args.channel === channel).at(-1)!;
  /** The buttons of the newest version of the progress message. */
  const buttons = () => {
    const latest = [posted, ...slack.callsOf('chat.update').filter((c) => c.args.ts === posted.result.ts)].at(-1)!;
    const block = (latest.args.blocks as { type: string; block_id: string; elements: { action_id: string; value: string }[] }[]).find((b) => b.type === 'actions')!;
    return Object.fromEntries(block.elements.map((e) => [e.action_id, { ...e, block_id: block.block_id }]));
  };
  const click = async (user: typeof alice, actionId: string, button = buttons()[actionId]) => {
    const responseUrl = slack.responseUrl();
    expect(button, `${actionId} among ${Object.keys(buttons()).join(', ')}`).toBeDefined();
    expect((await requests.click(user, button!, { channel, responseUrl })).status).toBe(200);
    return JSON.stringify(await slack.response(responseUrl));
  };

  expect(await click(bob, 'rollout_pause')).toMatch(/FORBIDDEN|not allowed|may not/i);
  expect((await coordinator.handle.deploys.get(deployment!.id)).status).toBe('ROLLING');
  const pause = buttons().rollout_pause;
  expect(await click(alice, 'rollout_pause')).toContain(`paused ${deployment!.id} (PAUSED)`);
  // The same button clicked again (a double click, a redelivery): nothing changes twice.
  expect(await click(alice, 'rollout_pause', pause)).toContain(`${deployment!.id} was paused already (PAUSED); nothing changed.`);
  await eventually(() => buttons().rollout_resume !== undefined, 10_000, 'the message to offer Resume');
  expect(await click(alice, 'rollout_promote')).toContain(`promoted ${deployment!.id} (ROLLING)`);
  await eventually(async () => (await coordinator.handle.deploys.status('api')).regions.find((r) => r.region === 'us')!.goal?.build === id, 10_000, 'the second wave after the promotion');
  expect(await click(alice, 'rollout_abort')).toContain(`aborted ${deployment!.id} (ABORTED)`);
  await bot.idle();
  const final = versions().at(-1)!;
  expect(final).toContain(`Deploy of api ${id} was aborted (${deployment!.id}); rolled back (d`);
  expect(final).not.toContain('rollout_pause');
  expect((await coordinator.handle.deploys.status('api')).regions.map((r) => r.goal?.build)).not.toContain(id);
  await coordinator.handle.deploys.unlock('api', { by: 'test' });
});
