// The demo story end to end on real processes (`fleetcast up`: NATS hub and leaves, DHT,
// coordinator, a builder, seeders, agents), driven twice: (a) through the `fleetcast` CLI with
// --json, (b) through signed Slack requests to a `fleetcast bot` process talking to the same
// coordinator. After each deploy and the rollback, every agent runs the right build — checked
// on disk (sha256 of the installed artifact against the build's digest) and through
// `fleetcast status --json`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeSlack } from './support/fake-slack.ts';
import { SampleRepo } from './support/git-repo.ts';
import type { SlackRequests, SlackUserFixture } from './support/slack-requests.ts';
import { poll, storyBuildScript, UpInstallation } from './support/up-installation.ts';

const regions = ['eu', 'us'];
const agentsPerRegion = 2;
const botApiToken = 'e2e-story-bot-api-token-0123456789';
const signingSecret = 'e2e-story-signing-secret-0123456789';
const alice: SlackUserFixture = { id: 'U0ALICE', name: 'alice' };
const channel = 'C0DEPLOYS';

let fleet: UpInstallation;
let repo: SampleRepo;
let commits: string[];
let slack: FakeSlack;
let requests: SlackRequests;

beforeAll(async () => {
  repo = SampleRepo.create();
  commits = ['1', '2'].map((version) => repo.commit({ 'build.sh': storyBuildScript(512 * 1024), VERSION: `${version}\n` }, `story version ${version}`));
  fleet = await UpInstallation.start({
    regions,
    agentsPerRegion,
    permissions: {
      tokens: [{ name: 'slack-bot', token: botApiToken, scopes: ['deploy'], actAs: true }],
      slack: { services: { '*': { build: ['U0ALICE'], deploy: ['U0ALICE'], rollback: ['U0ALICE'], lock: ['U0ALICE'] } } },
    },
  });
  slack = await FakeSlack.start();
  requests = await fleet.startBot({ apiToken: botApiToken, signingSecret, slack });
}, 150_000);

afterAll(async () => {
  await fleet?.stop();
  await slack?.stop();
  repo?.remove();
}, 60_000);

/** Every agent's `current` is `build`, byte for byte the build's artifact; status agrees. */
async function expectFleetOn(service: string, build: { id: string; digest: string }): Promise<void> {
  const installed = fleet.installed(service);
  expect(Object.keys(installed)).toHaveLength(regions.length * agentsPerRegion);
  for (const [machine, current] of Object.entries(installed)) expect(current, machine).toEqual({ build: build.id, sha256: build.digest });
  // Agents report every few seconds: status catches up with what is on disk.
  const status = await poll(async () => {
    const s = await fleet.json(['status', service]);
    return s.regions.every((r: any) => r.convergence.running === agentsPerRegion && r.convergence.converged) && s;
  }, 30_000, `status of ${service} to show every machine on ${build.id}`);
  for (const region of status.regions) {
    expect(region.goal.build, region.region).toBe(build.id);
    expect(region.goal.digest).toBe(build.digest);
    expect(region.goalError).toBeNull();
    expect(region.convergence).toMatchObject({ goalBuild: build.id, machines: agentsPerRegion, running: agentsPerRegion, failed: { machines: 0 }, converged: true });
  }
}

async function deployableThroughCli(id: string): Promise<any> {
  return poll(async () => {
    const shown = await fleet.json(['show', id]);
    return shown.deployable === true && shown;
  }, 60_000, `${id} to be deployable`);
}

describe('through the CLI', () => {
  it('build 1, replicate, deploy everywhere, build and deploy 2, roll back to 1', async () => {
    const service = await fleet.json(['service', 'add', 'story', '--repo', repo.dir, '--build', 'sh build.sh', '--artifact', 'out/app', '--run', './app']);
    expect(service).toMatchObject({ name: 'story' });

    const first = await fleet.json(['build', 'story', commits[0]!, '--wait']);
    expect(first).toMatchObject({ status: 'SUCCEEDED', commit: commits[0] });
    const deployable1 = await deployableThroughCli(first.id);
    expect(deployable1.replication.map((r: any) => [r.region, r.status])).toEqual(regions.map((r) => [r, 'DONE']));
    const d1 = await fleet.json(['deploy', first.id, '--wait']);
    expect(d1.final).toBe(true);
    expect(d1.deployment).toMatchObject({ build: first.id, status: 'CONVERGED', waves: [{ regions: ['eu'], status: 'CONVERGED' }, { regions: ['us'], status: 'CONVERGED' }] });
    await expectFleetOn('story', first);

    const second = await fleet.json(['build', 'story', commits[1]!, '--wait']);
    expect(second.status).toBe('SUCCEEDED');
    expect(second.digest).not.toBe(first.digest);
    await deployableThroughCli(second.id);
    const d2 = await fleet.json(['deploy', second.id, '--wait']);
    expect(d2.deployment.convergedAt).not.toBeNull();
    await expectFleetOn('story', second);

    // Back to the build deployed before, everywhere at once, and the service locked.
    const back = await fleet.json(['rollback', 'story', '--wait']);
    expect(back.deployment).toMatchObject({ kind: 'rollback', build: first.id, regions });
    expect(back.deployment.convergedAt).not.toBeNull();
    await expectFleetOn('story', first);
    const locked = await fleet.json(['status', 'story']);
    expect(locked.lock).toMatchObject({ reason: expect.stringContaining('rolled back by') });
    // Locked: a deploy is refused with exit 3 and changes nothing.
    const refused = await fleet.json(['deploy', second.id], 3);
    expect(refused.error.code).toBe('LOCKED');
    expect(await fleet.json(['unlock', 'story'])).toMatchObject({ service: 'story' });
    expect((await fleet.json(['status', 'story'])).lock).toBeNull();

    // Every change of the story is in the audit, oldest first; each goal write too.
    const audit = (await fleet.json(['audit', '--service', 'story', '--limit', '500'])).entries.reverse();
    const changes = audit.filter((e: any) => !['goal-write', 'prefetch-write'].includes(e.action)).map((e: any) => [e.action, e.result, e.actor]);
    expect(changes).toEqual([
      ['service-add', 'ok', 'local-admin'],
      ['build', 'ok', 'local-admin'],
      ['deploy', 'ok', 'local-admin'],
      ['build', 'ok', 'local-admin'],
      ['deploy', 'ok', 'local-admin'],
      ['rollback', 'ok', 'local-admin'],
      ['deploy', 'refused', 'local-admin'],
      ['unlock', 'ok', 'local-admin'],
    ]);
    expect(audit.filter((e: any) => e.action === 'goal-write').length).toBeGreaterThanOrEqual(5);
  }, 150_000);
});

describe('through Slack', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const textOf = (body: Record<string, any>) => JSON.stringify(body.blocks ?? []) + body.text;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const buttons = (body: Record<string, any>) => {
    const block = body.blocks.find((b: { type: string }) => b.type === 'actions');
    return block.elements.map((e: { action_id: string; value: string }) => ({ ...e, block_id: block.block_id })) as { action_id: string; value: string; block_id: string }[];
  };
  async function ask(line: string) {
    const responseUrl = slack.responseUrl();
    const reply = await requests.command(alice, line, { channel, responseUrl });
    expect(reply.status, reply.text).toBe(200);
    return { body: await slack.response(responseUrl), responseUrl };
  }
  /** A channel message of the bot, posted or updated after call number `since`, whose text contains `text`. */
  const channelMessage = (since: number, text: string, timeoutMs: number) =>
    slack.waitFor(() => slack.calls.slice(since).find((c) => (c.method === 'chat.postMessage' || c.method === 'chat.update') && c.args.channel === channel && JSON.stringify(c.args).includes(text)), `a message saying "${text}"`, timeoutMs);

  async function buildFromSlack(commit: string): Promise<any> {
    const { body, responseUrl } = await ask(`/build web ${commit}`);
    const id = /queued \*(b\d+)\*/.exec(textOf(body))?.[1];
    expect(id, textOf(body)).toBeDefined();
    const done = await slack.waitFor(() => slack.responsesTo(responseUrl).find((r) => /SUCCEEDED|FAILED/.test(r.body.text))?.body, `${id} to end`, 90_000);
    expect(done.text).toContain(`${id} of web SUCCEEDED`);
    return deployableThroughCli(id!);
  }

  async function confirm(line: string, action: string, expected: string): Promise<void> {
    const { body, responseUrl } = await ask(line);
    const button = buttons(body).find((b) => b.action_id === action);
    expect(button, textOf(body)).toBeDefined();
    const since = slack.calls.length;
    expect((await requests.click(alice, button!, { channel, responseUrl })).status).toBe(200);
    await channelMessage(since, expected, 90_000);
  }

  it('/build, /deploy + Deploy, /status, /rollback + Roll back, /unlock', async () => {
    await fleet.json(['service', 'add', 'web', '--repo', repo.dir, '--build', 'sh build.sh', '--artifact', 'out/app', '--run', './app']);
    const first = await buildFromSlack(commits[0]!);
    await confirm(`/deploy ${first.id}`, 'deploy_confirm', `web ${first.id} runs in eu, us`);
    await expectFleetOn('web', first);

    const second = await buildFromSlack(commits[1]!);
    await confirm(`/deploy ${second.id}`, 'deploy_confirm', `web ${second.id} runs in eu, us`);
    await expectFleetOn('web', second);
    const status = textOf((await ask('/status web')).body);
    for (const region of regions) expect(status).toContain(`*${region}*: ${second.id} (`);

    await confirm('/rollback web', 'rollback_confirm', `web ${first.id} runs in eu, us`);
    await expectFleetOn('web', first);
    const [latest] = (await fleet.api('GET', '/v1/deployments?service=web&limit=1')).json.deployments;
    expect(latest).toMatchObject({ kind: 'rollback', build: first.id, requestedBy: 'slack:alice' });
    expect((await fleet.json(['status', 'web'])).lock).toMatchObject({ lockedBy: 'slack:alice' });

    const unlocked = await ask('/unlock web');
    expect(textOf(unlocked.body)).toContain('<@U0ALICE> unlocked *web*');
    expect((await fleet.json(['status', 'web'])).lock).toBeNull();
  }, 180_000);
});
