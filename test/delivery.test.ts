// The delivery loop against a real coordinator, MariaDB and NATS (issue 23): freeze windows,
// pre-deploy checks and continuous deploy, through the CLI and the API. The coordinator's clock
// is the test's, so freezes start and end when the test says.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectAudit } from '../coordinator/index.ts';
import { eventually } from './support/eventually.ts';
import { onlyJson, runCli } from './support/cli.ts';
import { serviceBody, startTestCoordinator, type TestCoordinator } from './support/coordinator.ts';
import { deployableBuild } from './support/deployable-build.ts';
import { TestNatsCluster } from './support/nats-cluster.ts';

const regions = ['eu', 'us'];
// A Friday, 17:00 in Paris.
let now = new Date('2026-12-11T16:00:00Z');
let cluster: TestNatsCluster;
let coordinator: TestCoordinator;
let checkServer: http.Server;
let checkUrl: string;

beforeAll(async () => {
  cluster = await TestNatsCluster.start(regions);
  coordinator = await startTestCoordinator('mysql', {
    env: { FLEETCAST_NATS_URL: cluster.urls.hub, FLEETCAST_REGIONS: regions.join(','), FLEETCAST_REPLICATION_CONCURRENCY: '0', FLEETCAST_AUDIT_EVERY: '7d', FLEETCAST_CD_INTERVAL: '100ms' },
    overrides: { clock: () => now },
  });
  for (const name of ['api', 'shop', 'weekly', 'checked', 'cd', 'cdcheck', 'web']) expect((await coordinator.request('POST', '/v1/services', { body: serviceBody(name) })).status).toBe(201);
  // The URL a pre-deploy check asks: /ok answers 200, anything else 503 with a reason.
  checkServer = http.createServer((request, response) => {
    response.writeHead(request.url === '/ok' ? 200 : 503, { 'content-type': 'text/plain' }).end(request.url === '/ok' ? 'all good' : 'error budget exhausted');
  });
  await new Promise<void>((resolve) => checkServer.listen(0, '127.0.0.1', resolve));
  checkUrl = `http://127.0.0.1:${(checkServer.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await new Promise((resolve) => checkServer?.close(resolve));
  await coordinator?.stop();
  await cluster?.stop();
});

const cli = (args: string[]) => runCli([...args, '--json'], coordinator.env);

describe('freeze windows', () => {
  it('refuse a deploy (FROZEN, exit 3, the window named); a rollback goes through; an admin deploys anyway with a reason, audited', async () => {
    const first = await deployableBuild(coordinator.handle, 'api', regions);
    expect((await cli(['deploy', `b${first.id}`, '--wait'])).code).toBe(0);
    const second = await deployableBuild(coordinator.handle, 'api', regions);

    const added = await cli(['freeze', 'add', '--service', 'api', '--until', '2026-12-11T18:00:00Z', '--reason', 'release party']);
    expect(added.code, added.stderr).toBe(0);
    const freeze = onlyJson(added);
    expect(freeze).toMatchObject({ id: expect.stringMatching(/^f\d+$/), service: 'api', kind: 'once', reason: 'release party', createdBy: 'local-admin', activeUntil: '2026-12-11T18:00:00.000Z' });

    const refused = await cli(['deploy', `b${second.id}`]);
    expect(refused.code).toBe(3);
    const error = onlyJson(refused).error;
    expect(error.code).toBe('FROZEN');
    expect(error.message).toContain(`${freeze.id} (api,`);
    expect(error.message).toContain('release party');
    expect(error.message).toContain('until 2026-12-11T18:00:00.000Z');
    expect(error.message).toContain('rollbacks are still allowed');
    // Text mode says the same on stderr.
    const text = await runCli(['deploy', `b${second.id}`], coordinator.env);
    expect(text.stderr).toContain('frozen');

    const other = await deployableBuild(coordinator.handle, 'shop', regions);
    expect((await cli(['deploy', `b${other.id}`, '--wait'])).code).toBe(0);

    const rollback = await cli(['rollback', 'api', '--to', `b${first.id}`, '--reason', 'incident']);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(onlyJson(rollback)).toMatchObject({ kind: 'rollback', build: `b${first.id}` });
    expect((await cli(['unlock', 'api'])).code).toBe(0);

    const overridden = await cli(['deploy', `b${second.id}`, '--override-freeze', 'hotfix for the incident', '--wait']);
    expect(overridden.code, overridden.stderr).toBe(0);
    const audit = await selectAudit(coordinator.handle.db, 'api');
    const deploys = audit.filter((row) => row.action === 'deploy').map((row) => ({ result: row.result, detail: JSON.parse(String(row.detail)) }));
    expect(deploys.at(-2)).toMatchObject({ result: 'refused', detail: { error: { code: 'FROZEN' } } });
    expect(deploys.at(-1)).toMatchObject({ result: 'ok', detail: { overrideFreeze: 'hotfix for the incident', frozenOverridden: [freeze.id] } });
    expect(audit.find((row) => row.action === 'freeze-add')).toMatchObject({ actor: 'local-admin', result: 'ok' });

    // The freeze ends when its time comes; removing it is audited too.
    expect(onlyJson(await cli(['freeze', 'list', '--service', 'api'])).freezes.map((f: { id: string }) => f.id)).toContain(freeze.id);
    expect((await cli(['freeze', 'remove', freeze.id])).code).toBe(0);
    expect(onlyJson(await cli(['freeze', 'list'])).freezes.map((f: { id: string }) => f.id)).not.toContain(freeze.id);
    expect(onlyJson(await cli(['freeze', 'remove', freeze.id])).error.code).toBe('NOT_FOUND');
  });

  it('a weekly window in Europe/Paris freezes every service on Friday evening Paris time, and not on Monday morning', async () => {
    const added = onlyJson(await cli(['freeze', 'add', '--weekly', 'Fri 16:00-Mon 08:00', '--tz', 'Europe/Paris', '--reason', 'weekend']));
    expect(added).toMatchObject({ service: null, kind: 'weekly', timeZone: 'Europe/Paris', activeUntil: '2026-12-14T07:00:00.000Z' });
    const build = await deployableBuild(coordinator.handle, 'weekly', regions);
    expect(onlyJson(await cli(['deploy', `b${build.id}`])).error).toMatchObject({ code: 'FROZEN' });
    now = new Date('2026-12-14T08:30:00Z');
    try {
      expect(onlyJson(await cli(['deploy', `b${build.id}`, '--wait'])).deployment).toMatchObject({ status: 'CONVERGED' });
    } finally {
      expect((await cli(['freeze', 'remove', added.id])).code).toBe(0);
    }
    expect(onlyJson(await cli(['freeze', 'add', '--weekly', 'Someday', '--reason', 'x'])).error.message).toContain('Fri 16:00-Mon 08:00');
    expect(onlyJson(await cli(['freeze', 'add', '--weekly', 'Fri 16:00-Mon 08:00', '--tz', 'Mars/Olympus', '--reason', 'x'])).error.message).toContain('unknown time zone');
  });

  it("DESIGN.md's form: freeze SERVICE|--all --reason T [--until …] and unfreeze SERVICE|--all", async () => {
    const build = await deployableBuild(coordinator.handle, 'web', regions);
    const frozen = await cli(['freeze', 'web', '--reason', 'quarter close']);
    expect(frozen.code, frozen.stdout + frozen.stderr).toBe(0);
    expect(onlyJson(frozen)).toMatchObject({ service: 'web', kind: 'once', reason: 'quarter close' });
    const refused = await cli(['deploy', `b${build.id}`]);
    expect(refused.code).toBe(3);
    expect(onlyJson(refused).error).toMatchObject({ code: 'FROZEN' });
    expect(onlyJson(refused).error.message).toContain('on until fleetcast unfreeze');
    // Every service at once, with an end; then both lifted.
    const all = await cli(['freeze', '--all', '--reason', 'migration', '--until', '2030-01-01T00:00:00Z']);
    expect(onlyJson(all)).toMatchObject({ service: null, reason: 'migration' });
    expect((await cli(['freeze', 'web', '--all', '--reason', 'x'])).code).toBe(2);
    expect((await cli(['freeze', 'web'])).code).toBe(2);
    const unfrozen = await cli(['unfreeze', 'web']);
    expect(onlyJson(unfrozen).removed.map((f: { service: string }) => f.service)).toEqual(['web']);
    expect(onlyJson(await cli(['deploy', `b${build.id}`])).error.code).toBe('FROZEN');
    expect(onlyJson(await cli(['unfreeze', '--all'])).removed).toHaveLength(1);
    expect((await cli(['deploy', `b${build.id}`])).code).toBe(0);
  });
});

describe('pre-deploy checks', () => {
  it('a failing command refuses the deploy with CHECK_FAILED and its output; a URL that answers 2xx lets it through, and the run is tied to the deployment', async () => {
    const build = await deployableBuild(coordinator.handle, 'checked', regions);
    const set = await cli(['service', 'check', 'checked', '--command', 'echo "checking $FLEETCAST_SERVICE $FLEETCAST_BUILD_ID"; echo "database migrations pending" >&2; exit 4']);
    expect(set.code, set.stderr).toBe(0);
    const refused = await cli(['deploy', `b${build.id}`]);
    expect(refused.code).toBe(3);
    const error = onlyJson(refused).error;
    expect(error.code).toBe('CHECK_FAILED');
    expect(error.message).toContain(`checking checked b${build.id}`);
    expect(error.message).toContain('database migrations pending');
    expect(error.message).toContain('exit 4');
    expect(await coordinator.handle.deploys.list({ service: 'checked', limit: 5 })).toEqual([]);

    expect(onlyJson(await cli(['service', 'check', 'checked', '--url', `${checkUrl}/down`])).check.url).toBe(`${checkUrl}/down`);
    const down = onlyJson(await cli(['deploy', `b${build.id}`])).error;
    expect(down.code).toBe('CHECK_FAILED');
    expect(down.message).toContain('HTTP 503');
    expect(down.message).toContain('error budget exhausted');

    await cli(['service', 'check', 'checked', '--url', `${checkUrl}/ok`]);
    const deployed = await cli(['deploy', `b${build.id}`]);
    expect(deployed.code, deployed.stderr).toBe(0);
    const deployment = onlyJson(deployed);
    const delivery = onlyJson(await cli(['service', 'delivery', 'checked']));
    expect(delivery.checks.map((c: { ok: boolean; kind: string; deployment: string | null }) => [c.kind, c.ok, c.deployment])).toEqual([
      ['url', true, deployment.id],
      ['url', false, null],
      ['command', false, null],
    ]);
    expect(delivery.checks[0].output).toContain('HTTP 200');
    const audit = (await selectAudit(coordinator.handle.db, 'checked')).filter((row) => row.action === 'deploy').map((row) => JSON.parse(String(row.detail)));
    expect(audit.at(-1)).toMatchObject({ deployment: deployment.id, check: { kind: 'url', ok: true } });
  });
});

describe('continuous deploy', () => {
  it('deploys each new deployable build by itself; in a freeze the newest waits (said, audited) and goes when the window ends, the one in between skipped; rollback works meanwhile', async () => {
    now = new Date('2026-12-15T10:00:00Z');
    expect(onlyJson(await cli(['service', 'cd', 'on', 'cd'])).continuousDeploy).toMatchObject({ enabled: true, branch: 'main' });
    const first = await deployableBuild(coordinator.handle, 'cd', regions);
    const deployedFirst = await eventually(async () => (await coordinator.handle.deploys.list({ service: 'cd', limit: 1 }))[0], 15_000, 'the first continuous deploy');
    expect(deployedFirst).toMatchObject({ build: `b${first.id}`, requestedBy: 'continuous-deploy', kind: 'deploy' });
    await eventually(async () => ['CONVERGED'].includes((await coordinator.handle.deploys.get(deployedFirst.id)).status), 15_000, 'the first to converge');
    const second = await deployableBuild(coordinator.handle, 'cd', regions);
    const deployedSecond = await eventually(async () => (await coordinator.handle.deploys.list({ service: 'cd', limit: 1 }))[0]?.build === `b${second.id}` && (await coordinator.handle.deploys.list({ service: 'cd', limit: 1 }))[0], 15_000, 'the second continuous deploy');
    await eventually(async () => (await coordinator.handle.deploys.get(deployedSecond.id)).status === 'CONVERGED', 15_000, 'the second to converge');

    const freeze = onlyJson(await cli(['freeze', 'add', '--service', 'cd', '--until', '2026-12-15T12:00:00Z', '--reason', 'board demo']));
    const third = await deployableBuild(coordinator.handle, 'cd', regions);
    const waiting = await eventually(async () => {
      const delivery = onlyJson(await cli(['service', 'delivery', 'cd']));
      return delivery.continuousDeploy.build === `b${third.id}` && delivery.continuousDeploy.state === 'waiting' && delivery.continuousDeploy;
    }, 15_000, 'continuous deploy to wait for the freeze');
    expect(waiting.reason).toContain('FROZEN');
    expect(waiting.reason).toContain('board demo');
    const fourth = await deployableBuild(coordinator.handle, 'cd', regions);
    await eventually(async () => onlyJson(await cli(['service', 'delivery', 'cd'])).continuousDeploy.build === `b${fourth.id}`, 15_000, 'the newest build to wait instead');

    // A rollback while frozen goes through (and locks the service).
    const rollback = await cli(['rollback', 'cd', '--reason', 'bad second build']);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(onlyJson(rollback)).toMatchObject({ build: `b${first.id}` });
    expect((await coordinator.handle.deploys.list({ service: 'cd', limit: 1 }))[0]!.kind).toBe('rollback');
    expect((await cli(['unlock', 'cd'])).code).toBe(0);

    // The window ends: the newest build goes, the third never does.
    now = new Date('2026-12-15T12:00:00Z');
    const deployedFourth = await eventually(async () => {
      const [newest] = await coordinator.handle.deploys.list({ service: 'cd', limit: 1 });
      return newest?.build === `b${fourth.id}` && newest;
    }, 15_000, 'the newest build to deploy once the freeze ended');
    expect(deployedFourth).toMatchObject({ requestedBy: 'continuous-deploy' });
    expect((await coordinator.handle.deploys.list({ service: 'cd', limit: 20 })).map((d) => d.build)).not.toContain(`b${third.id}`);
    // Each change is audited once (a build waits for the freeze, then for the rollback, then the lock: three rows).
    const changes = async () => (await selectAudit(coordinator.handle.db, 'cd')).filter((row) => row.action === 'continuous-deploy').map((row) => ({ result: row.result, ...JSON.parse(String(row.detail)) }));
    await eventually(async () => (await changes()).some((row) => row.build === `b${fourth.id}` && row.state === 'deployed'), 15_000, 'the deploy to be recorded');
    const audit = await changes();
    const steps = audit.map((row) => `${row.build} ${row.state}`).filter((step, i, all) => step !== all[i - 1]);
    expect(steps.map((step) => step.split(' '))).toEqual([
      [`b${first.id}`, 'deployed'],
      [`b${second.id}`, 'deployed'],
      [`b${third.id}`, 'waiting'],
      [`b${fourth.id}`, 'waiting'],
      [`b${fourth.id}`, 'deployed'],
    ]);
    expect(audit.find((row) => row.build === `b${fourth.id}`)).toMatchObject({ passedOver: `b${third.id}`, result: 'refused' });
    expect(freeze.id).toMatch(/^f\d+$/);
  });

  it('a build whose check fails is skipped, saying why, and not tried again; the next build goes', async () => {
    const bad = await deployableBuild(coordinator.handle, 'cdcheck', regions);
    expect((await cli(['service', 'check', 'cdcheck', '--command', `test "$FLEETCAST_BUILD_ID" != "b${bad.id}" || { echo "smoke test failed"; exit 1; }`])).code).toBe(0);
    expect((await cli(['service', 'cd', 'on', 'cdcheck'])).code).toBe(0);
    const skipped = await eventually(async () => {
      const cd = onlyJson(await cli(['service', 'delivery', 'cdcheck'])).continuousDeploy;
      return cd.build === `b${bad.id}` && cd.state === 'skipped' && cd;
    }, 15_000, 'the failing build to be skipped');
    expect(skipped.reason).toContain('CHECK_FAILED');
    expect(skipped.reason).toContain('smoke test failed');
    const good = await deployableBuild(coordinator.handle, 'cdcheck', regions);
    await eventually(async () => (await coordinator.handle.deploys.list({ service: 'cdcheck', limit: 1 }))[0]?.build === `b${good.id}`, 15_000, 'the next build to deploy');
    expect((await coordinator.handle.deploys.list({ service: 'cdcheck', limit: 5 })).map((d) => d.build)).toEqual([`b${good.id}`]);
  });
});
