// The Slack bot end to end: the real Bolt app in HTTP mode, requests signed as Slack signs
// them, a real coordinator (MariaDB) deploying into a real NATS hub with three regional
// leaves, and Slack's Web API and response_urls faked locally (the real client talks to them).
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBotConfig, runBot, type BotHandle } from '../bot/index.ts';
import { selectAudit } from '../coordinator/index.ts';
import { randomBytes } from 'node:crypto';
import { silentLogger } from '../logging/index.ts';
import { BotTestbed } from './support/bot-testbed.ts';
import type { TestCoordinator } from './support/coordinator.ts';
import { deployableBuild } from './support/deployable-build.ts';
import type { FakeSlack } from './support/fake-slack.ts';
import { spawnTs } from './support/processes.ts';
import { SlackRequests, type SlackUserFixture } from './support/slack-requests.ts';

const regions = ['eu', 'us', 'ap'];
const signingSecret = BotTestbed.signingSecret;
const alice: SlackUserFixture = { id: 'U0ALICE', name: 'alice' };
const bob: SlackUserFixture = { id: 'U0BOB', name: 'bob' };
const carol: SlackUserFixture = { id: 'U0CAROL', name: 'carol' };
const channel = 'C0DEPLOYS';

let testbed: BotTestbed;
let coordinator: TestCoordinator;
let slack: FakeSlack;
let bot: BotHandle;
let requests: SlackRequests;
let dir: string;

beforeAll(async () => {
  testbed = await BotTestbed.start({
    regions,
    dialect: 'mysql',
    services: ['api', 'web', 'shop', 'pay', 'cart'],
    slackPermissions: {
      services: {
        api: { deploy: ['U0ALICE'], build: ['U0ALICE'], lock: ['U0ALICE'] },
        '*': { deploy: ['S0ONCALL'], rollback: ['S0ONCALL'], lock: ['S0ONCALL'] },
      },
    },
    fakeSlack: { groups: { S0ONCALL: ['U0CAROL'] }, notInChannel: ['C0PRIVATE'] },
    botEnv: { FLEETCAST_SLACK_CHANNELS: 'api=C0APIANN,*=C0ANNOUNCE' },
  });
  ({ coordinator, slack, bot, requests, dir } = testbed);
}, 120_000);

afterAll(() => BotTestbed.stop(testbed));

/** Sends a command as `user` in the deploys channel; resolves with the bot's first answer. */
async function ask(user: SlackUserFixture, line: string, options: Parameters<SlackRequests['command']>[3] = {}) {
  const responseUrl = slack.responseUrl();
  const reply = await requests.command(user, line, { channel, responseUrl }, options);
  expect(reply.status, reply.text).toBe(200);
  const body = await slack.response(responseUrl);
  return { body, responseUrl, reply };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function textOf(body: Record<string, any>): string {
  return JSON.stringify(body.blocks ?? []) + body.text;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function buttons(body: Record<string, any>): { action_id: string; value: string; block_id: string }[] {
  const block = body.blocks.find((b: { type: string }) => b.type === 'actions');
  return block.elements.map((e: { action_id: string; value: string }) => ({ ...e, block_id: block.block_id }));
}

/** Deploys through the API (the admin token) and waits until every wave has converged. */
async function deployed(buildId: number, extra: Record<string, unknown> = {}): Promise<string> {
  const reply = await coordinator.request('POST', '/v1/deployments', { body: { build: `b${buildId}`, ...extra } });
  expect(reply.status, reply.text).toBe(201);
  await expect.poll(async () => (await coordinator.request('GET', `/v1/deployments/${reply.json.id}`)).json.convergedAt, { timeout: 20_000, interval: 50 }).not.toBeNull();
  return reply.json.id;
}

async function deploymentsOf(service: string): Promise<{ id: string; build: string; requestedBy: string; kind: string }[]> {
  return (await coordinator.request('GET', `/v1/deployments?service=${service}`)).json.deployments;
}


/** A build of `service` that FAILED, with its reason. */
async function failedBuild(service: string, reason: string) {
  const { build } = await coordinator.handle.queue.submit({ service, commit: randomBytes(20).toString('hex') });
  const claimed = await coordinator.handle.queue.claim('test-builder');
  expect(claimed?.build.id).toBe(build.id);
  return coordinator.handle.queue.fail(claimed!.claim, reason);
}

/** The bot's settings without its permissions file, with `overrides`: for other bots of this installation. */
const botEnv = (overrides: Record<string, string | undefined>) => testbed.botEnv({ FLEETCAST_PERMISSIONS: undefined, FLEETCAST_SLACK_CHANNELS: undefined, ...overrides });

describe('read-only commands answer everyone', () => {
  it('/status shows the goal of each region and the lock', async () => {
    const build = await deployableBuild(coordinator.handle, 'web', regions);
    const id = await deployed(build.id);
    const { body } = await ask(bob, '/status web');
    expect(body.response_type).toBe('ephemeral');
    for (const region of regions) expect(textOf(body)).toContain(`*${region}*: b${build.id} (d`);
    expect(textOf(body)).toContain('not locked');
    expect(textOf(body)).toContain(`newest: ${id} deploy of b${build.id} CONVERGED`);
  });

  it('/builds lists recent builds with status, failure and deployability', async () => {
    const failed = await failedBuild('cart', 'build command exited with code 2; last lines: boom');
    const partial = await deployableBuild(coordinator.handle, 'cart', regions, ['ap']);
    const { body } = await ask(bob, '/builds cart');
    const text = textOf(body);
    expect(text).toContain(`*b${failed.id}* FAILED`);
    expect(text).toContain('build command exited with code 2');
    expect(text).toMatch(new RegExp(`\\*b${partial.id}\\* SUCCEEDED .* not deployable yet`));
    expect(text.indexOf(`b${partial.id}`)).toBeLessThan(text.indexOf(`b${failed.id}`));
  });

  it('help lists every command; a mistake shows the usage', async () => {
    const help = textOf((await ask(bob, '/fleetcast')).body);
    for (const command of ['/deploy BUILD [REGIONS]', '/rollback SERVICE [BUILD]', '/build SERVICE COMMIT', '/builds SERVICE', '/status SERVICE', '/lock SERVICE REASON', '/unlock SERVICE']) expect(help).toContain(command);
    expect(textOf((await ask(bob, '/deploy help')).body)).toMatch(/^\[.*`\/deploy BUILD \[REGIONS\]`/);
    expect(textOf((await ask(bob, '/deploy')).body)).toContain('name a build. Usage: `/deploy BUILD [REGIONS]`');
    expect(textOf((await ask(bob, '/status Web!')).body)).toContain('is not a service name');
    const missing = textOf((await ask(bob, '/status nosuch')).body);
    expect(missing).toContain('Not found');
  });
});

describe('/deploy', () => {
  it('previews, then deploys once on Deploy, keeping one message updated to the end', async () => {
    const before = await deployableBuild(coordinator.handle, 'api', regions);
    await deployed(before.id, { regions: ['eu'] });
    const build = await deployableBuild(coordinator.handle, 'api', regions);
    // What the builder records from the checkout.
    await coordinator.handle.db.execute('UPDATE builds SET commit_author = ?, commit_subject = ? WHERE id = ?', ['Dana Dev <dana@example.com>', 'Retry <payments> on 503', build.id]);
    const { body, responseUrl } = await ask(alice, `/deploy b${build.id}`);
    expect(body.response_type).toBe('ephemeral');
    const text = textOf(body);
    expect(text).toContain(`Deploy api b${build.id}?`);
    expect(text).toContain(`\`${build.commit.slice(0, 10)}\` — _Retry &lt;payments&gt; on 503_ by Dana Dev &lt;dana@example.com&gt;`);
    expect(text).toContain(`*eu*: b${before.id} → *b${build.id}*`);
    expect(text).toContain(`*ap*: nothing yet → *b${build.id}*`);
    // The coordinator's plan (canary by default): what the coordinator will do, not a guess.
    expect(text).toContain('*Waves*: 1. eu → 2. us, ap');
    // The preview is the coordinator's (POST /v1/deployments/preview): its commit mirror is not allowed local repositories here, and it says so.
    expect(text).toContain('commits not listed: the coordinator does not read /srv/git/api');
    const [deploy, cancel] = buttons(body);
    expect(deploy!.action_id).toBe('deploy_confirm');
    expect(cancel!.action_id).toBe('plan_cancel');

    const posted = slack.callsOf('chat.postMessage').length;
    expect((await requests.click(alice, deploy!, { channel, responseUrl })).status).toBe(200);
    await bot.idle();
    const deployments = (await deploymentsOf('api')).filter((d) => d.build === `b${build.id}`);
    expect(deployments).toHaveLength(1);
    expect(deployments[0]).toMatchObject({ kind: 'deploy', requestedBy: 'slack:alice' });
    const id = deployments[0]!.id;
    // One message in the channel, posted once and updated in place; the preview points at it.
    const progress = slack.callsOf('chat.postMessage').slice(posted).filter((c) => c.args.channel === channel);
    expect(progress).toHaveLength(1);
    expect(progress[0]!.token).toBe('xoxb-test-bot-token');
    const updates = slack.callsOf('chat.update').filter((c) => c.args.ts === progress[0]!.result.ts);
    expect(updates.length).toBeGreaterThan(0);
    const final = JSON.stringify(updates.at(-1)!.args.blocks);
    expect(final).toContain(`api b${build.id} runs in eu, us, ap (${id})`);
    expect(final).toContain('Waves: :white_check_mark: 1. eu  :white_check_mark: 2. us, ap');
    expect(slack.responsesTo(responseUrl).at(-1)!.body).toMatchObject({ replace_original: true });
    expect(textOf(slack.responsesTo(responseUrl).at(-1)!.body)).toContain('progress is in the channel');
    // The outcome is announced in the service's channel.
    const announced = slack.callsOf('chat.postMessage').slice(posted).find((c) => c.args.channel === 'C0APIANN');
    expect(JSON.stringify(announced?.args.blocks)).toContain(id);
    const audit = (await selectAudit(coordinator.handle.db, 'api')).filter((row) => row.action === 'deploy').at(-1)!;
    expect(audit).toMatchObject({ actor: 'slack:alice', result: 'ok' });
    expect(JSON.parse(String(audit.detail))).toMatchObject({ via: { token: 'slack-bot', id: 'slack:U0ALICE' }, deployment: id });
  });

  it('deploys in the waves asked for', async () => {
    const build = await deployableBuild(coordinator.handle, 'api', regions);
    const { body, responseUrl } = await ask(alice, `/deploy b${build.id} ap;eu,us`);
    expect(textOf(body)).toContain('*Waves*: 1. ap → 2. eu, us');
    await requests.click(alice, buttons(body)[0]!, { channel, responseUrl });
    await bot.idle();
    const [deployment] = (await coordinator.request('GET', '/v1/deployments?service=api&limit=1')).json.deployments;
    expect(deployment).toMatchObject({ build: `b${build.id}`, waves: [{ regions: ['ap'], status: 'CONVERGED' }, { regions: ['eu', 'us'], status: 'CONVERGED' }] });
    expect(textOf((await ask(alice, `/deploy b${build.id} eu;eu`)).body)).toContain('a region is named in two waves');
  });

  it('Cancel replaces the preview and deploys nothing; Deploy on it afterwards is refused', async () => {
    const build = await deployableBuild(coordinator.handle, 'api', regions);
    const { body, responseUrl } = await ask(alice, `/deploy b${build.id} eu`);
    const [deploy, cancel] = buttons(body);
    await requests.click(alice, cancel!, { channel, responseUrl });
    const cancelled = await slack.response(responseUrl, (b) => b.replace_original === true);
    expect(cancelled.text).toContain(`Deploy of api b${build.id} cancelled by <@U0ALICE>; nothing was done`);
    await requests.click(alice, deploy!, { channel, responseUrl });
    expect(textOf(await slack.response(responseUrl, (b) => b.text.includes('was cancelled')))).toContain('nothing was done');
    await bot.idle();
    expect((await deploymentsOf('api')).filter((d) => d.build === `b${build.id}`)).toHaveLength(0);
  });

  it('a double click, and Slack delivering a click again, deploy exactly once', async () => {
    const build = await deployableBuild(coordinator.handle, 'api', regions);
    const { body, responseUrl } = await ask(alice, `/deploy b${build.id}`);
    const [deploy] = buttons(body);
    const place = { channel, responseUrl };
    const first = requests.click(alice, deploy!, place, { triggerId: 'click-1' });
    const second = requests.click(alice, deploy!, place, { triggerId: 'click-2' });
    // A redelivery is signed again, later: same trigger id, another timestamp and signature.
    const later = Math.floor(Date.now() / 1000) + 1;
    const redelivered = requests.click(alice, deploy!, place, { triggerId: 'click-1', timestamp: later, headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } });
    for (const reply of await Promise.all([first, second, redelivered])) expect(reply.status).toBe(200);
    await bot.idle();
    expect((await deploymentsOf('api')).filter((d) => d.build === `b${build.id}`)).toHaveLength(1);
    expect(slack.responsesTo(responseUrl).filter((r) => r.body.text.includes('confirmed already by <@U0ALICE>'))).toHaveLength(1);
    const progress = slack.callsOf('chat.postMessage').filter((c) => c.args.channel === channel && c.args.text.includes(`api b${build.id}`));
    expect(progress).toHaveLength(1);
  });

  it('a click on the same preview after a bot restart gets the same deployment back (Idempotency-Key)', async () => {
    const build = await deployableBuild(coordinator.handle, 'api', regions);
    const { body, responseUrl } = await ask(alice, `/deploy b${build.id} eu`);
    const [deploy] = buttons(body);
    await requests.click(alice, deploy!, { channel, responseUrl });
    await bot.idle();
    // Another bot process: none of the first one's memory of the preview.
    const restarted = await runBot(loadBotConfig({ env: botEnv({ FLEETCAST_PERMISSIONS: path.join(dir, 'permissions.json') }) }), { logger: silentLogger(), minUpdateIntervalMs: 0 });
    try {
      await new SlackRequests(restarted.url!, signingSecret).click(alice, deploy!, { channel, responseUrl });
      const said = await slack.response(responseUrl, (b) => b.text.includes('was confirmed before'));
      const deployments = (await deploymentsOf('api')).filter((d) => d.build === `b${build.id}`);
      expect(deployments).toHaveLength(1);
      expect(said.text).toContain(`This deploy was confirmed before: ${deployments[0]!.id}`);
    } finally {
      await restarted.stop();
    }
  });

  it('a command Slack delivers again is answered once', async () => {
    const responseUrl = slack.responseUrl();
    const place = { channel, responseUrl };
    expect((await requests.command(bob, '/status web', place, { triggerId: 'command-1' })).status).toBe(200);
    await slack.response(responseUrl);
    const later = Math.floor(Date.now() / 1000) + 1;
    const again = await requests.command(bob, '/status web', place, { triggerId: 'command-1', timestamp: later, headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } });
    expect(again.status).toBe(200);
    // A later command answers after the redelivery would have: the redelivery was dropped, not slow.
    await ask(bob, '/status web');
    expect(slack.responsesTo(responseUrl)).toHaveLength(1);
  });

  it('refuses a build missing from a region, naming it and its copy; the other regions may be deployed to', async () => {
    const partial = await deployableBuild(coordinator.handle, 'api', regions, ['ap']);
    const text = textOf((await ask(alice, `/deploy b${partial.id}`)).body);
    expect(text).toContain('Not deployable');
    // The coordinator's own refusal (its preview route), with the copies and the Slack command for the other regions.
    expect(text).toContain(`build b${partial.id} is not deployable to ap:`);
    expect(text).toContain('*ap* PENDING');
    expect(text).toContain(`/deploy b${partial.id} eu,us`);
    const some = textOf((await ask(alice, `/deploy b${partial.id} eu,us`)).body);
    expect(some).toContain(`Deploy api b${partial.id}?`);
    expect(some).toContain('to 2 of 3 regions');
    expect(textOf((await ask(alice, `/deploy b${partial.id} mars`)).body)).toContain('region mars, which is not configured: the regions are eu, us, ap');
  });

  it('refuses a FAILED build with its reason', async () => {
    const failed = await failedBuild('api', 'artifact missing at out/api');
    const text = textOf((await ask(alice, `/deploy b${failed.id}`)).body);
    expect(text).toContain(`b${failed.id} of api is FAILED (artifact missing at out/api)`);
  });

  it('refuses a locked service, saying by whom and why', async () => {
    const build = await deployableBuild(coordinator.handle, 'shop', regions);
    expect((await coordinator.request('POST', '/v1/services/shop/lock', { body: { reason: 'black friday freeze' } })).status).toBe(201);
    const text = textOf((await ask(carol, `/deploy b${build.id}`)).body);
    expect(text).toContain(':lock: Locked');
    expect(text).toContain('service shop is locked by local-admin since');
    expect(text).toContain('(black friday freeze)');
    expect(text).toContain('`/unlock shop`');
    expect((await coordinator.request('DELETE', '/v1/services/shop/lock')).status).toBe(200);
  });

  it('a refusal the coordinator makes at Deploy (locked since the preview) is shown, and nothing is deployed', async () => {
    const build = await deployableBuild(coordinator.handle, 'shop', regions);
    const { body, responseUrl } = await ask(carol, `/deploy b${build.id}`);
    expect((await coordinator.request('POST', '/v1/services/shop/lock', { body: { reason: 'incident 12' } })).status).toBe(201);
    await requests.click(carol, buttons(body)[0]!, { channel, responseUrl });
    const refusal = textOf(await slack.response(responseUrl, (b) => b.text.includes('Locked')));
    expect(refusal).toContain('incident 12');
    await bot.idle();
    expect((await deploymentsOf('shop')).filter((d) => d.build === `b${build.id}`)).toHaveLength(0);
    expect((await selectAudit(coordinator.handle.db, 'shop')).at(-1)).toMatchObject({ actor: 'slack:carol', action: 'deploy', result: 'refused' });
    expect((await coordinator.request('DELETE', '/v1/services/shop/lock')).status).toBe(200);
  });

  it('refuses someone not allowed, saying who may', async () => {
    const build = await deployableBuild(coordinator.handle, 'api', regions);
    const text = textOf((await ask(bob, `/deploy b${build.id}`)).body);
    expect(text).toContain('Not allowed');
    expect(text).toContain('<@U0BOB> may not deploy api: that is granted to <@U0ALICE>, members of <!subteam^S0ONCALL>');
    expect(text).toContain('slack.services.api.deploy');
  });

  it('refuses Deploy on a preview older than 15 minutes', async () => {
    const build = await deployableBuild(coordinator.handle, 'api', regions);
    const { body, responseUrl } = await ask(alice, `/deploy b${build.id}`);
    const [deploy] = buttons(body);
    const old = { ...JSON.parse(deploy!.value), at: Date.now() - 20 * 60_000 };
    await requests.click(alice, { ...deploy!, value: JSON.stringify(old) }, { channel, responseUrl });
    expect(textOf(await slack.response(responseUrl, (b) => b.text.includes('min old')))).toContain(`Run \`/deploy b${build.id}\` again`);
    expect((await deploymentsOf('api')).filter((d) => d.build === `b${build.id}`)).toHaveLength(0);
  });

  it('shows progress in the preview itself where the bot may not post', async () => {
    const build = await deployableBuild(coordinator.handle, 'api', regions);
    const responseUrl = slack.responseUrl();
    const place = { channel: 'C0PRIVATE', responseUrl };
    await requests.command(alice, `/deploy b${build.id}`, place);
    const preview = await slack.response(responseUrl);
    await requests.click(alice, buttons(preview)[0]!, place);
    await bot.idle();
    const replaced = slack.responsesTo(responseUrl).filter((r) => r.body.replace_original === true);
    expect(replaced.length).toBeGreaterThan(0);
    expect(replaced.at(-1)!.body.text).toContain(`api b${build.id} runs in eu, us, ap`);
    expect(slack.callsOf('chat.postMessage').find((c) => c.args.channel === 'C0PRIVATE')).toBeDefined();
  });
});

describe('/rollback', () => {
  it('one confirmation: back to the build before, the service locked, the Slack user in history', async () => {
    const first = await deployableBuild(coordinator.handle, 'pay', regions);
    const second = await deployableBuild(coordinator.handle, 'pay', regions);
    for (const build of [first, second]) await deployed(build.id);
    const { body, responseUrl } = await ask(carol, '/rollback pay');
    const text = textOf(body);
    expect(text).toContain('Roll back pay?');
    expect(text).toContain(`*eu*: b${second.id} → *b${first.id}*`);
    expect(text).toContain('stays locked (_rolled back by slack:carol_) until `/unlock pay`');
    const [rollback] = buttons(body);
    expect(rollback!.action_id).toBe('rollback_confirm');
    await requests.click(carol, rollback!, { channel, responseUrl });
    await bot.idle();
    const [latest] = await deploymentsOf('pay');
    expect(latest).toMatchObject({ kind: 'rollback', build: `b${first.id}`, requestedBy: 'slack:carol' });
    const status = (await coordinator.request('GET', '/v1/services/pay/status')).json;
    expect(status.lock).toMatchObject({ lockedBy: 'slack:carol', reason: 'rolled back by slack:carol' });
    const message = slack.callsOf('chat.update').filter((c) => c.args.channel === channel).at(-1)!;
    expect(JSON.stringify(message.args.blocks)).toContain('pay is locked until `/unlock pay`');
    expect((await selectAudit(coordinator.handle.db, 'pay')).filter((r) => r.action === 'rollback').at(-1)).toMatchObject({ actor: 'slack:carol', result: 'ok' });
  });

  it('names the build when asked, and refuses who is not on call, saying who is', async () => {
    expect(textOf((await ask(bob, '/rollback pay')).body)).toContain('<@U0BOB> may not roll back pay: that is granted to members of <!subteam^S0ONCALL>');
    expect(textOf((await ask(carol, '/rollback pay b1 extra')).body)).toContain('unexpected "extra"');
    const [oldest] = (await coordinator.request('GET', '/v1/builds?service=pay&limit=100')).json.builds.slice(-1);
    const named = textOf((await ask(carol, `/rollback pay ${oldest.id}`)).body);
    expect(named).toContain(`→ *${oldest.id}*`);
    // A build of another service is refused by the coordinator, before any confirmation.
    const [other] = (await coordinator.request('GET', '/v1/builds?service=api&limit=1')).json.builds;
    expect(textOf((await ask(carol, `/rollback pay ${other.id}`)).body)).toContain(`${other.id} is a build of api, not of pay`);
  });
});

describe('/build', () => {
  it('queues a build for the Slack user and announces it when it ends', async () => {
    const commit = randomBytes(20).toString('hex');
    const { body, responseUrl } = await ask(alice, `/build api ${commit}`);
    const queued = textOf(body);
    expect(queued).toMatch(/<@U0ALICE> queued \*b\d+\* of \*api\*/);
    expect(queued).toContain('announced in <#C0APIANN>');
    // The same commit again, while it is queued: that build, nothing new queued, and one announcement.
    const again = await ask(alice, `/build api ${commit}`);
    expect(textOf(again.body)).toMatch(/is already QUEUED as \*b\d+\*/);
    const claimed = await coordinator.handle.queue.claim('test-builder');
    expect(claimed?.build).toMatchObject({ commit, requestedBy: 'slack:alice' });
    await coordinator.handle.queue.succeed(claimed!.claim, { digest: 'a'.repeat(64), size: 99 });
    const finished = await slack.response(responseUrl, (b) => b.text.includes('SUCCEEDED'));
    expect(finished.text).toContain(`b${claimed!.build.id} of api SUCCEEDED`);
    await bot.idle();
    expect(slack.callsOf('chat.postMessage').filter((c) => c.args.channel === 'C0APIANN' && c.args.text.includes(`b${claimed!.build.id} of api SUCCEEDED`))).toHaveLength(1);
    expect((await slack.response(again.responseUrl, (b) => b.text.includes('SUCCEEDED'))).text).toContain(`b${claimed!.build.id}`);
    expect(await coordinator.handle.queue.claim('test-builder')).toBeNull();
    expect(textOf((await ask(bob, `/build api ${commit}`)).body)).toContain('<@U0BOB> may not queue builds of api');
  });
});

describe('/lock and /unlock', () => {
  it('lock in the channel for everyone to see, under the Slack user; unlock likewise', async () => {
    const { body } = await ask(alice, '/lock api launch freeze, ask #release');
    expect(body.response_type).toBe('in_channel');
    expect(textOf(body)).toContain('<@U0ALICE> locked *api*: launch freeze, ask #release');
    expect((await coordinator.request('GET', '/v1/services/api/status')).json.lock).toMatchObject({ lockedBy: 'slack:alice', reason: 'launch freeze, ask #release' });
    expect(textOf((await ask(alice, '/lock api again')).body)).toContain('already locked by slack:alice');
    const unlocked = await ask(alice, '/unlock api');
    expect(unlocked.body.response_type).toBe('in_channel');
    expect(textOf(unlocked.body)).toContain('<@U0ALICE> unlocked *api*');
    expect(textOf((await ask(alice, '/unlock api')).body)).toContain('api is not locked');
    const rows = (await selectAudit(coordinator.handle.db, 'api')).filter((r) => r.action === 'lock' || r.action === 'unlock');
    expect(rows.slice(-4).map((r) => [r.actor, r.action, r.result])).toEqual([
      ['slack:alice', 'lock', 'ok'],
      ['slack:alice', 'lock', 'refused'],
      ['slack:alice', 'unlock', 'ok'],
      ['slack:alice', 'unlock', 'refused'],
    ]);
  });

  it('needs a reason, and the lock permission', async () => {
    expect(textOf((await ask(alice, '/lock api')).body)).toContain('say why');
    expect(textOf((await ask(bob, '/lock api because')).body)).toContain('<@U0BOB> may not lock or unlock api');
    expect((await coordinator.request('GET', '/v1/services/api/status')).json.lock).toBeNull();
  });
});

describe('requests not from Slack', () => {
  const place = () => ({ channel, responseUrl: slack.responseUrl() });

  it('rejects a bad signature and a stale timestamp with 401, doing nothing', async () => {
    const forged = place();
    expect((await requests.command(alice, '/lock api forged', forged, { secret: 'not-the-signing-secret-0123456789' })).status).toBe(401);
    const stale = place();
    expect((await requests.command(alice, '/lock api stale', stale, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 })).status).toBe(401);
    const unsigned = await fetch(bot.url!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'command=/lock&text=api+x&user_id=U0ALICE' });
    expect(unsigned.status).toBe(401);
    await ask(bob, '/status web');
    expect(slack.responsesTo(forged.responseUrl)).toHaveLength(0);
    expect(slack.responsesTo(stale.responseUrl)).toHaveLength(0);
    expect((await coordinator.request('GET', '/v1/services/api/status')).json.lock).toBeNull();
  });

  it('rejects a signed request replayed within the timestamp window', async () => {
    const { reply, responseUrl } = await ask(alice, '/lock api replay test');
    await ask(alice, '/unlock api');
    const replay = await requests.sendRaw(reply.raw);
    expect(replay.status).toBe(401);
    await ask(bob, '/status web');
    expect(slack.responsesTo(responseUrl)).toHaveLength(1);
    expect((await coordinator.request('GET', '/v1/services/api/status')).json.lock).toBeNull();
  });
});

describe('configuration', () => {
  it('without a permissions file answers reads and refuses every change, saying how to grant', async () => {
    const open = await runBot(loadBotConfig({ env: botEnv({}) }), { logger: silentLogger() });
    try {
      const other = new SlackRequests(open.url!, signingSecret);
      const ask2 = async (user: SlackUserFixture, line: string) => {
        const responseUrl = slack.responseUrl();
        expect((await other.command(user, line, { channel, responseUrl })).status).toBe(200);
        return textOf(await slack.response(responseUrl));
      };
      expect(await ask2(bob, '/status web')).toContain('*eu*: b');
      const refused = await ask2(alice, '/lock web x');
      expect(refused).toContain('Nobody may lock or unlock web from Slack: the bot has no permissions file');
      expect(refused).toContain('FLEETCAST_PERMISSIONS');
      expect(await ask2(alice, '/rollback web')).toContain('Nobody may roll back web from Slack');
    } finally {
      await open.stop();
    }
  });

  it('runs as `fleetcast bot` and stops on SIGTERM', async () => {
    const env = Object.fromEntries(Object.entries(botEnv({ FLEETCAST_PERMISSIONS: path.join(dir, 'permissions.json'), FLEETCAST_LOG_LEVEL: 'info' })).filter(([, v]) => v !== undefined)) as Record<string, string>;
    const child = spawnTs('bin/fleetcast.js', env, ['bot']);
    try {
      const readyLine = () => child.stderr.map((line) => JSON.parse(line)).find((entry) => entry.msg === 'bot ready');
      await expect.poll(readyLine, { timeout: 30_000, interval: 100 }).toMatchObject({ role: 'bot', mode: 'http' });
      const ready = readyLine();
      const responseUrl = slack.responseUrl();
      expect((await new SlackRequests(ready.url, signingSecret).command(bob, '/status web', { channel, responseUrl })).status).toBe(200);
      expect(textOf(await slack.response(responseUrl))).toContain('*eu*: b');
      child.kill('SIGTERM');
      expect(await child.exited).toEqual({ code: 0, signal: null });
    } finally {
      child.kill();
    }
  });

  it('acks at once while the coordinator does not answer, then says so', async () => {
    // A coordinator that accepts connections and never answers.
    const sockets = new Set<net.Socket>();
    const hole = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve));
    const apiUrl = `http://127.0.0.1:${(hole.address() as net.AddressInfo).port}`;
    const stuck = await runBot(loadBotConfig({ env: botEnv({ FLEETCAST_API_URL: apiUrl, FLEETCAST_PERMISSIONS: path.join(dir, 'permissions.json') }) }), { logger: silentLogger(), apiTimeoutMs: 500 });
    try {
      const responseUrl = slack.responseUrl();
      const reply = await new SlackRequests(stuck.url!, signingSecret).command(alice, '/deploy b1', { channel, responseUrl });
      expect(reply.status).toBe(200);
      // The ack came back before any answer: the work runs after it.
      expect(slack.responsesTo(responseUrl)).toHaveLength(0);
      const answer = textOf(await slack.response(responseUrl));
      expect(answer).toContain('The bot cannot reach the coordinator');
      expect(answer).toContain(`the coordinator at ${apiUrl} did not answer within 0.5 s`);
    } finally {
      await stuck.stop();
      for (const socket of sockets) socket.destroy();
      hole.close();
    }
  });

  it('refuses to start with an API token that may not act for Slack users, or a bot token Slack refuses', async () => {
    await expect(runBot(loadBotConfig({ env: botEnv({ FLEETCAST_API_TOKEN: coordinator.token }) }), { logger: silentLogger() })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('"local-admin" may not act for Slack users'),
    });
    await expect(runBot(loadBotConfig({ env: botEnv({ FLEETCAST_SLACK_BOT_TOKEN: 'xoxb-revoked' }) }), { logger: silentLogger() })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('Slack refused FLEETCAST_SLACK_BOT_TOKEN (invalid_auth)'),
    });
  });
});
