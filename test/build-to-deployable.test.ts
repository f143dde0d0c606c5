// The story of issues 4 and 5 through the CLI, as a user tells it: register a service, build a
// commit with --wait (a real builder, a real git repository), watch it replicate into every
// region until it is deployable, read its log.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadBuilderConfig, runBuilder, type BuilderHandle } from '../builder/index.ts';
import { onlyJson, runCli } from './support/cli.ts';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.ts';
import { SampleRepo } from './support/git-repo.ts';

let coordinator: TestCoordinator;
let builder: BuilderHandle;
let repo: SampleRepo;

beforeEach(async () => {
  coordinator = await startTestCoordinator('mysql', {
    env: { FLEETCAST_REGIONS: 'eu,us,ap' },
    overrides: { replicationPacing: { plannerMs: 50 } },
  });
  builder = await runBuilder(
    loadBuilderConfig({
      env: { ...coordinator.testDb.env, FLEETCAST_DATA_DIR: coordinator.dataDir, FLEETCAST_MIN_FREE_DISK: '1M', FLEETCAST_LOG_LEVEL: 'silent', FLEETCAST_WORKER_ID: 'w1', FLEETCAST_GIT_ALLOW_FILE: 'true' },
    }),
    { pollIntervalMs: 50 },
  );
  repo = SampleRepo.create();
});

afterEach(async () => {
  await builder.stop();
  await coordinator.stop();
  repo.remove();
});

it('fleetcast build --wait, then show: replicated to every region and deployable', async () => {
  const sha = repo.commit({ 'build.sh': 'echo compiling "$FLEETCAST_SERVICE"; echo "app $FLEETCAST_COMMIT" > "$FLEETCAST_OUT"\n' });
  const cli = (...args: string[]) => runCli(args, coordinator.env);

  expect((await cli('service', 'add', 'api', '--repo', repo.dir, '--build', 'sh build.sh', '--artifact', 'bin/app')).code).toBe(0);
  const built = await cli('build', 'api', sha, '--wait', '--json');
  expect(built.code).toBe(0);
  const build = onlyJson(built);
  expect(build).toMatchObject({ status: 'SUCCEEDED', size: `app ${sha}\n`.length, claimedBy: 'w1' });

  await expect.poll(async () => onlyJson(await cli('show', build.id, '--json')).deployable, { timeout: 20_000, interval: 200 }).toBe(true);
  const shown = onlyJson(await cli('show', build.id, '--json'));
  expect(shown.replication.map((r: { region: string; status: string }) => [r.region, r.status])).toEqual([
    ['eu', 'DONE'],
    ['us', 'DONE'],
    ['ap', 'DONE'],
  ]);
  expect(shown.deployableReason).toBeNull();

  const text = (await cli('show', build.id)).stdout;
  expect(text).toMatch(/deployable\s+yes/);
  expect(text).toMatch(/ {2}ap\s+DONE in /);
  expect((await cli('builds', 'api')).stdout.split('\n')[1]).toMatch(/SUCCEEDED.*\byes$/);

  const log = onlyJson(await cli('logs', build.id, '--json'));
  expect(log.text).toContain('compiling api');
  expect(log.text).toContain('==> stored and verified as fleetcast-main/');

  const retried = onlyJson(await cli('replicate', build.id, '--json'));
  expect(retried).toMatchObject({ id: build.id, retried: 0, deployable: true });
});
