// deploy --dry-run and rollback --dry-run against a real coordinator (MariaDB), a NATS hub with
// two regional leaves and real agents: the preview lists the commits between what each region
// runs and the build (from the coordinator's own mirror of a real git repository), the waves,
// and the machines already holding the build in cache; it changes nothing (the SQL rows, the
// goal bucket and the audit log are identical before and after); and it is refused by the same
// rules as the real request, with the same code and message.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusReport } from '../goalstate/index.ts';
import { serviceScript, TestFleet, type TestAgent } from './support/agent-fleet.ts';
import { storeArtifact } from './support/agent-artifacts.ts';
import { onlyJson, runCli } from './support/cli.ts';
import { serviceBody, startTestCoordinator, type TestCoordinator } from './support/coordinator.ts';
import { deployableBuild } from './support/deployable-build.ts';
import { eventually } from './support/eventually.ts';

const regions = ['eu', 'us'];
let fleet: TestFleet;
let coordinator: TestCoordinator;
let repo: string;
const agents: TestAgent[] = [];
/** The repository's commits, oldest first: [sha, subject]. */
const commits: { sha: string; subject: string }[] = [];

const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' } }).trim();

function commit(subject: string): string {
  fs.writeFileSync(path.join(repo, 'log.txt'), `${subject}\n`, { flag: 'a' });
  git('add', 'log.txt');
  git('-c', 'user.name=Dana Dev', '-c', 'user.email=dana@example.com', 'commit', '--quiet', '-m', subject);
  const sha = git('rev-parse', 'HEAD');
  commits.push({ sha, subject });
  return sha;
}

/** A build of `sha` the agents can run (real bytes in both regional buckets); `missing` regions get no verified copy. */
async function buildOf(sha: string, missing: string[] = []): Promise<string> {
  const build = await deployableBuild(
    coordinator.handle,
    'api',
    regions,
    missing,
    async (id) => {
      const stored = await storeArtifact(await Promise.all(regions.map((r) => fleet.bucket(r))), 'api', id, 20_000, serviceScript);
      return { digest: stored.digest, size: stored.bytes.length };
    },
    sha,
  );
  return `b${build.id}`;
}

const cli = (args: string[]) => runCli([...args, '--json'], coordinator.env);
const running = (build: string) => (r: StatusReport) => r.state === 'running' && r.build === build;

async function deployed(build: string): Promise<void> {
  const reply = await coordinator.request('POST', '/v1/deployments', { body: { build } });
  expect(reply.status, reply.text).toBe(201);
  for (const agent of agents) await fleet.reportOf(agent.region, 'api', agent.machine, running(build), 30_000);
  await eventually(async () => (await coordinator.handle.deploys.get(reply.json.id)).status === 'CONVERGED', 20_000, `${reply.json.id} to converge`);
}

/** Everything a deploy or rollback would change: the SQL rows of deployments, locks and audit, and every key of the goal bucket with its revision. */
async function snapshot(): Promise<unknown> {
  const { db } = coordinator.handle;
  const rows = async (table: string) => JSON.stringify(await db.query(`SELECT * FROM ${table} ORDER BY 1`));
  const kv = await fleet.cluster.rawKv(fleet.cluster.urls.hub, 'goal');
  const goals: string[] = [];
  for await (const key of await kv.keys()) {
    const entry = await kv.get(key);
    goals.push(`${key}@${entry?.revision}:${entry?.operation}`);
  }
  return { deployments: await rows('deployments'), locks: await rows('locks'), audit: await rows('audit'), goals: goals.sort() };
}

beforeAll(async () => {
  repo = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-preview-repo-'));
  git('init', '--quiet', '--initial-branch=main');
  fleet = await TestFleet.start(regions);
  coordinator = await startTestCoordinator('mysql', {
    env: {
      ...fleet.coordinatorEnv(),
      FLEETCAST_DEPLOY_WAVES: 'canary',
      FLEETCAST_GIT_ALLOW_FILE: 'true',
    },
  });
  expect((await coordinator.request('POST', '/v1/services', { body: serviceBody('api', { repo, runCommand: 'sh ./api' }) })).status).toBe(201);
  for (const [region, machine] of [['eu', 'eu-1'], ['eu', 'eu-2'], ['us', 'us-1']] as const) agents.push(await fleet.startAgent(region, machine, { env: { FLEETCAST_AGENT_SERVICES: 'api' } }));
}, 120_000);

afterAll(async () => {
  await coordinator?.stop();
  await fleet?.stop();
  if (repo) fs.rmSync(repo, { recursive: true, force: true });
}, 60_000);

describe('--dry-run', () => {
  let first: string;
  let second: string;

  it('deploy --dry-run lists the commits shipped, what each region runs and the waves, and changes nothing', async () => {
    first = await buildOf(commit('first release'));
    await deployed(first);
    commit('retry payments on 503');
    second = await buildOf(commit('faster checkout'));
    const before = await snapshot();

    const run = await cli(['deploy', second, '--dry-run']);
    expect(run.code, run.stderr).toBe(0);
    const preview = onlyJson(run);
    expect(preview).toMatchObject({ kind: 'deploy', service: 'api', build: { id: second, commit: commits[2]!.sha }, waves: [['eu'], ['us']], lock: null, refusals: [] });
    expect(preview.regions.map((r: { region: string; current: { build: string } | null; machines: number; running: number }) => [r.region, r.current?.build, r.machines, r.running])).toEqual([
      ['eu', first, 2, 0],
      ['us', first, 1, 0],
    ]);
    expect(preview.changes).toHaveLength(1);
    expect(preview.changes[0]).toMatchObject({ from: first, fromCommit: commits[0]!.sha, regions: ['eu', 'us'], removed: [], truncated: false, error: null });
    // Newest first, with author and subject, from the repository itself.
    expect(preview.changes[0].shipped).toEqual([
      { sha: commits[2]!.sha, author: 'Dana Dev <dana@example.com>', subject: 'faster checkout' },
      { sha: commits[1]!.sha, author: 'Dana Dev <dana@example.com>', subject: 'retry payments on 503' },
    ]);
    expect(await snapshot()).toEqual(before);

    // The text form says the same to a person.
    const text = await runCli(['deploy', second, '--dry-run'], coordinator.env);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`dry run: would deploy api ${second}`);
    expect(text.stdout).toContain('ships 2 commits:');
    expect(text.stdout).toContain(`${commits[1]!.sha.slice(0, 12)} retry payments on 503 (Dana Dev <dana@example.com>)`);
    expect(text.stdout).toContain('it would go ahead');
    expect(await snapshot()).toEqual(before);
  }, 120_000);

  it('rollback --dry-run names the build it returns to, the commits removed and the machines holding it in cache, and changes nothing', async () => {
    await deployed(second);
    // Every machine keeps the build it ran before in its cache, and says so.
    for (const agent of agents) await fleet.reportOf(agent.region, 'api', agent.machine, (r) => r.cached.includes(first), 20_000);
    const before = await snapshot();

    const run = await cli(['rollback', 'api', '--dry-run']);
    expect(run.code, run.stderr).toBe(0);
    const preview = onlyJson(run);
    expect(preview).toMatchObject({ kind: 'rollback', build: { id: first }, waves: [['eu', 'us']], refusals: [] });
    expect(preview.regions.map((r: { region: string; current: { build: string }; holding: number; running: number }) => [r.region, r.current.build, r.holding, r.running])).toEqual([
      ['eu', second, 2, 0],
      ['us', second, 1, 0],
    ]);
    expect(preview.changes[0].shipped).toEqual([]);
    expect(preview.changes[0].removed.map((c: { sha: string }) => c.sha)).toEqual([commits[2]!.sha, commits[1]!.sha]);
    expect(await snapshot()).toEqual(before);
  }, 120_000);

  it('says LOCKED for a locked service as the deploy does (same code and message, exit 3); the preview alone writes no audit row', async () => {
    expect((await coordinator.request('POST', '/v1/services/api/lock', { body: { reason: 'release freeze' } })).status).toBe(201);
    const third = await buildOf(commit('after the freeze'));
    const before = await snapshot();
    const run = await cli(['deploy', third, '--dry-run']);
    expect(run.code).toBe(3);
    const preview = onlyJson(run);
    expect(await snapshot()).toEqual(before);
    expect(preview.lock).toMatchObject({ lockedBy: 'local-admin', reason: 'release freeze' });
    expect(preview.refusals.map((r: { error: { code: string } }) => r.error.code)).toEqual(['LOCKED']);

    const real = await cli(['deploy', third]);
    expect(real.code).toBe(3);
    expect(onlyJson(real).error).toEqual(preview.refusals[0].error);
    // A rollback is not refused by the lock: it replaces it.
    expect(onlyJson(await cli(['rollback', 'api', '--dry-run'])).refusals).toEqual([]);
    expect((await coordinator.request('DELETE', '/v1/services/api/lock')).status).toBe(200);
  }, 60_000);

  it('says NOT_DEPLOYABLE for a build missing from a region as the deploy does; a bad request is refused as the deploy refuses it', async () => {
    const partial = await buildOf(commit('half copied'), ['us']);
    const before = await snapshot();
    const preview = onlyJson(await cli(['deploy', partial, '--dry-run']));
    expect(preview.refusals.map((r: { error: { code: string; details: { missingRegions: string[] } } }) => [r.error.code, r.error.details.missingRegions])).toEqual([['NOT_DEPLOYABLE', ['us']]]);
    expect(await snapshot()).toEqual(before);
    const real = await cli(['deploy', partial]);
    expect(real.code).toBe(3);
    expect(onlyJson(real).error).toEqual(preview.refusals[0].error);
    // Only to eu: it would go ahead.
    expect(onlyJson(await cli(['deploy', partial, '--regions', 'eu', '--dry-run'])).refusals).toEqual([]);

    const unknown = await cli(['deploy', partial, '--regions', 'mars', '--dry-run']);
    expect(unknown.code).toBe(2);
    expect(onlyJson(unknown).error.code).toBe('INVALID_INPUT');
    expect((await cli(['deploy', 'b99999', '--dry-run'])).code).toBe(1);
  }, 60_000);
});
