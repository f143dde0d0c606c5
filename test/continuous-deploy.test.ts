// The delivery loop end to end (issue 23): git pushes reach the coordinator's webhook, a real
// builder builds them in its sandbox, the replicator copies them to every region, and continuous
// deploy ships them with no one asking — or, in a freeze, waits and ships the newest when the
// window ends (across a coordinator restart: its state is in SQL); a rollback in the freeze goes
// through; a failing pre-deploy check blocks with its output. Real MariaDB, NATS hub and leaves.
import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadBuilderConfig, runBuilder, type BuilderHandle } from '../builder/index.ts';
import { loadCoordinatorConfig, runCoordinator, type CoordinatorHandle } from '../coordinator/index.ts';
import { signBody } from '../coordinator/api/index.ts';
import { silentLogger } from '../logging/index.ts';
import { onlyJson, runCli } from './support/cli.ts';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.ts';
import { eventually } from './support/eventually.ts';
import { SampleRepo } from './support/git-repo.ts';
import { TestNatsCluster } from './support/nats-cluster.ts';

const regions = ['eu', 'us'];
const secret = 'continuous-deploy-webhook-secret';
// Tuesday 2026-12-15, 10:00 UTC: the coordinator's clock, moved by the test.
let now = new Date('2026-12-15T10:00:00Z');
const env = {
  FLEETCAST_REGIONS: regions.join(','),
  FLEETCAST_WEBHOOK_SECRET: secret,
  FLEETCAST_CD_INTERVAL: '200ms',
};
let cluster: TestNatsCluster;
let coordinator: TestCoordinator;
/** The coordinator running now (a restarted one replaces the first). */
let handle: CoordinatorHandle;
let builder: BuilderHandle;
let repo: SampleRepo;
let apiEnv: Record<string, string>;

beforeAll(async () => {
  cluster = await TestNatsCluster.start(regions);
  coordinator = await startTestCoordinator('mysql', {
    env: { ...env, FLEETCAST_NATS_URL: cluster.urls.hub },
    overrides: { replicationPacing: { plannerMs: 50 }, clock: () => now },
  });
  handle = coordinator.handle;
  apiEnv = coordinator.env;
  builder = await runBuilder(
    loadBuilderConfig({
      env: { ...coordinator.testDb.env, FLEETCAST_DATA_DIR: coordinator.dataDir, FLEETCAST_MIN_FREE_DISK: '1M', FLEETCAST_LOG_LEVEL: 'silent', FLEETCAST_WORKER_ID: 'w1', FLEETCAST_GIT_ALLOW_FILE: 'true' },
    }),
    { pollIntervalMs: 50 },
  );
  repo = SampleRepo.create();
}, 120_000);

afterAll(async () => {
  await builder?.stop();
  if (handle !== coordinator?.handle) await handle?.stop();
  await coordinator?.stop();
  await cluster?.stop();
  repo?.remove();
});

const cli = (...args: string[]) => runCli(args, apiEnv);

/** Commits and pushes to main: the webhook call a git host makes. */
async function push(files: Record<string, string>, message: string): Promise<string> {
  const sha = repo.commit(files, message);
  const body = JSON.stringify({ ref: 'refs/heads/main', after: sha, repository: { clone_url: repo.dir } });
  const reply = await fetch(`${handle.url}/v1/hooks/git`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signBody(secret, Buffer.from(body)) },
    body,
  });
  expect(reply.status).toBe(202);
  return sha;
}

const buildScript = (version: string) => ({ 'build.sh': `echo "app ${version} $FLEETCAST_COMMIT" > "$FLEETCAST_OUT"\n` });
const buildOf = async (sha: string) => eventually(async () => (await handle.queue.list()).find((b) => b.commit === sha && b.status === 'SUCCEEDED'), 60_000, `the build of ${sha.slice(0, 7)}`);
const newestDeployment = async () => (await handle.deploys.list({ service: 'api', limit: 1 }))[0];
const delivery = async () => onlyJson(await cli('service', 'delivery', 'api', '--json'));

it('a push to main builds and deploys by itself; in a freeze it builds but waits, then deploys the newest when the window ends (after a coordinator restart); a rollback in the freeze goes through; a failing check blocks with its output', async () => {
  expect((await cli('service', 'add', 'api', '--repo', repo.dir, '--build', 'sh build.sh', '--artifact', 'bin/app')).code).toBe(0);
  const on = await cli('service', 'cd', 'on', 'api', '--json');
  expect(on.code, on.stderr).toBe(0);

  // 1. A push to main: built, replicated, deployed — nobody asked.
  const first = await buildOf(await push(buildScript('v1'), 'v1'));
  const d1 = await eventually(async () => (await newestDeployment())?.build === `b${first.id}` && (await newestDeployment()), 60_000, 'the first push to be deployed');
  expect(d1).toMatchObject({ requestedBy: 'continuous-deploy', kind: 'deploy', reason: 'continuous deploy of main' });
  await eventually(async () => (await handle.deploys.get(d1.id)).status === 'CONVERGED', 30_000, `${d1.id} to converge`);
  const status = onlyJson(await cli('status', 'api', '--json'));
  expect(status.regions.map((r: { goal: { build: string } }) => r.goal.build)).toEqual(regions.map(() => `b${first.id}`));

  // 2. A freeze until noon; a push builds, and waits.
  expect((await cli('freeze', 'add', '--service', 'api', '--until', '2026-12-15T12:00:00Z', '--reason', 'customer demo')).code).toBe(0);
  const second = await buildOf(await push(buildScript('v2'), 'v2'));
  const waiting = await eventually(async () => {
    const cd = (await delivery()).continuousDeploy;
    return cd.build === `b${second.id}` && cd.state === 'waiting' && cd.reason.includes('FROZEN') && cd;
  }, 60_000, 'the second build to wait for the freeze');
  expect(waiting.reason).toContain('customer demo');
  expect((await newestDeployment())!.id).toBe(d1.id);
  // A person deploying is refused too (exit 3, the window named).
  const refused = await cli('deploy', `b${second.id}`, '--json');
  expect(refused.code).toBe(3);
  expect(onlyJson(refused).error).toMatchObject({ code: 'FROZEN' });

  // 3. A rollback in the freeze goes through (to the build before: none deployed, so name it).
  const rollback = await cli('rollback', 'api', '--to', `b${first.id}`, '--reason', 'checking the rollback path', '--json');
  expect(rollback.code, rollback.stderr).toBe(0);
  expect(onlyJson(rollback)).toMatchObject({ kind: 'rollback', build: `b${first.id}` });
  expect((await cli('unlock', 'api')).code).toBe(0);

  // 4. The coordinator restarts while the build waits; nothing was held in memory.
  await handle.stop();
  const config = loadCoordinatorConfig({
    env: { ...coordinator.testDb.env, FLEETCAST_DATA_DIR: coordinator.dataDir, FLEETCAST_LISTEN: '127.0.0.1:0', ...coordinator.keys!.coordinatorEnv, ...env, FLEETCAST_NATS_URL: cluster.urls.hub },
  });
  handle = await runCoordinator(config, { logger: silentLogger(), replicationPacing: { plannerMs: 50 }, wavesIntervalMs: 100, clock: () => now });
  apiEnv = { ...apiEnv, FLEETCAST_API_URL: handle.url };
  // The window ends: the newest build goes by itself.
  now = new Date('2026-12-15T12:00:00Z');
  const d2 = await eventually(async () => (await newestDeployment())?.build === `b${second.id}` && (await newestDeployment()), 30_000, 'the waiting build to deploy once the freeze ended');
  expect(d2).toMatchObject({ requestedBy: 'continuous-deploy', kind: 'deploy' });

  // 5. A failing pre-deploy check: the next push builds but is not deployed, and says why.
  const check = await cli('service', 'check', 'api', '--command', 'echo "canary error rate 7% > 1%"; exit 1', '--json');
  expect(check.code, check.stderr).toBe(0);
  await eventually(async () => (await handle.deploys.get(d2.id)).status === 'CONVERGED', 30_000, `${d2.id} to converge`);
  const third = await buildOf(await push(buildScript('v3'), 'v3'));
  const skipped = await eventually(async () => {
    const cd = (await delivery()).continuousDeploy;
    return cd.build === `b${third.id}` && cd.state === 'skipped' && cd;
  }, 60_000, 'the third build to be skipped');
  expect(skipped.reason).toContain('CHECK_FAILED');
  expect(skipped.reason).toContain('canary error rate 7% > 1%');
  const shown = await delivery();
  expect(shown.checks[0]).toMatchObject({ build: `b${third.id}`, ok: false, kind: 'command', deployment: null });
  expect(shown.checks[0].output).toContain('canary error rate 7% > 1%');
  const text = await cli('deploy', `b${third.id}`);
  expect(text.code).toBe(3);
  expect(text.stderr).toContain('canary error rate 7% > 1%');
  expect((await newestDeployment())!.id).toBe(d2.id);
  expect(fs.existsSync(coordinator.dataDir)).toBe(true);
}, 300_000);
