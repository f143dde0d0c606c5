import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onlyJson, runCli } from './support/cli.ts';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.ts';
import { freePort } from './support/private-mariadb.ts';

const commit = 'f00d'.repeat(10);
const readToken = 'read-only-token-for-tests';

const buildKeys = [
  'id', 'service', 'commit', 'artifact', 'status', 'createdAt', 'startedAt', 'finishedAt', 'attempts', 'maxAttempts',
  'claimedBy', 'lastHeartbeat', 'failureReason', 'digest', 'size', 'requestedBy', 'cancelledBy', 'commitAuthor', 'commitSubject', 'branchOverrideBy', 'used', 'durationMs',
  'deployable', 'deployableReason', 'replication',
].sort();

describe('fleetcast client commands (real executable, MariaDB coordinator)', () => {
  let c: TestCoordinator;
  let dir: string;
  let cli: (...args: string[]) => ReturnType<typeof runCli>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-cli-'));
    const permissions = path.join(dir, 'permissions.json');
    fs.writeFileSync(permissions, JSON.stringify({ tokens: [{ name: 'viewer', token: readToken, scopes: ['read'] }] }));
    c = await startTestCoordinator('mysql', { env: { FLEETCAST_PERMISSIONS: permissions } });
    cli = (...args) => runCli(args, c.env);
  });

  afterAll(async () => {
    await c.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('registers and shows services, printing one JSON document with --json', async () => {
    const added = await cli('service', 'add', 'api', '--repo', '/srv/git/api', '--build', 'make', '--artifact', 'out/api', '--run', './api', '--json');
    expect(added.code).toBe(0);
    expect(onlyJson(added)).toEqual({
      name: 'api',
      repo: '/srv/git/api',
      branch: 'main',
      buildCommand: 'make',
      artifactPath: 'out/api',
      runCommand: './api',
      healthUrl: null,
      buildNetwork: true,
      buildSettings: [],
      metricGate: null,
      wavePlan: null,
      autoRollback: null,
      createdAt: expect.any(String),
    });
    const list = await cli('service', 'list', '--json');
    expect(onlyJson(list).services.map((s: { name: string }) => s.name)).toEqual(['api']);
    const text = await cli('service', 'list');
    expect(text.stdout).toMatch(/^NAME\s+BRANCH\s+REPO\s+BUILD\s+ARTIFACT\napi\s+main\s+\/srv\/git\/api\s+make\s+out\/api\n$/);
    const show = await cli('service', 'show', 'api', '--json');
    expect(onlyJson(show).runCommand).toBe('./api');

    const again = await cli('service', 'add', 'api', '--repo', '/x', '--build', 'make', '--artifact', 'out', '--json');
    expect(again.code).toBe(1);
    expect(onlyJson(again).error.code).toBe('CONFLICT');
  });

  it('registers a service with a metric gate (--gate-query, --gate-max, --gate-for) and shows it', async () => {
    const query = 'sum(rate(errors_total{region="{{region}}",build="{{build}}"}[1m]))';
    const added = await cli('service', 'add', 'gated', '--repo', '/srv/git/gated', '--build', 'make', '--artifact', 'out/gated', '--gate-query', query, '--gate-max', '0.5', '--gate-for', '5m', '--json');
    expect(added.code, added.stderr).toBe(0);
    expect(onlyJson(added).metricGate).toEqual({ query, max: 0.5, holdMs: 300_000 });
    const show = await cli('service', 'show', 'gated');
    expect(show.stdout).toContain(`metric gate     ${query} ≤ 0.5 for 5m`);
    const half = await cli('service', 'add', 'half', '--repo', '/x', '--build', 'make', '--artifact', 'out', '--gate-query', 'up');
    expect(half.code).not.toBe(0);
    expect(half.stderr).toContain('a metric gate needs both --gate-query and --gate-max');
    const typo = await cli('service', 'add', 'typo', '--repo', '/x', '--build', 'make', '--artifact', 'out', '--gate-query', 'up{m="{{machine}}"}', '--gate-max', '1', '--json');
    expect(onlyJson(typo).error).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('unknown placeholder {{machine}}') });
  });

  it('queues, lists, shows, reads the log of and cancels builds', async () => {
    const queued = await cli('build', 'api', commit, '--json');
    expect(queued.code).toBe(0);
    const build = onlyJson(queued);
    expect(Object.keys(build).sort()).toEqual(buildKeys);
    expect(build).toMatchObject({ id: expect.stringMatching(/^b\d+$/), status: 'QUEUED', commit, requestedBy: 'local-admin' });

    const human = await cli('build', 'api', commit);
    expect(human.stdout).toBe(`${build.id} is already QUEUED for api @ ${commit.slice(0, 12)} (--force queues another)\n`);

    const list = onlyJson(await cli('builds', 'api', '--status', 'queued', '--limit', '5', '--json'));
    expect(list).toEqual({ builds: [build], next: null });
    const table = await cli('builds');
    expect(table.stdout.split('\n')[0]).toMatch(/^BUILD\s+SERVICE\s+COMMIT\s+STATUS\s+CREATED\s+DURATION\s+BY\s+DEPLOYABLE$/);
    expect(table.stdout).toContain(`${build.id}     api      ${commit.slice(0, 12)}  QUEUED`);

    expect(onlyJson(await cli('show', build.id.slice(1), '--json'))).toEqual(build);
    expect((await cli('show', build.id)).stdout).toMatch(/^build\s+b\d+\nservice\s+api\n/);

    const log = await cli('logs', build.id, '--json');
    expect(onlyJson(log)).toEqual({ id: build.id, text: '', nextOffset: 0, complete: false });

    const cancelled = await cli('cancel', build.id, '--json');
    expect(onlyJson(cancelled)).toMatchObject({ id: build.id, status: 'FAILED', cancelledBy: 'local-admin' });
    const twice = await cli('cancel', build.id, '--json');
    expect(twice.code).toBe(1);
    expect(onlyJson(twice).error.code).toBe('FINAL_STATE');
  });

  it('exits 2 on bad usage, printing the error as JSON with --json', async () => {
    const [missing, unknownOption, noSubcommand, badLimit, badName, badCommit] = await Promise.all([
      cli('build', 'api', '--json'),
      cli('builds', '--colour', 'red'),
      cli('service'),
      cli('builds', '--limit', 'lots', '--json'),
      cli('service', 'add', '../x', '--repo', '/x', '--build', 'make', '--artifact', 'out', '--json'),
      cli('build', 'api', 'HEAD'),
    ]);
    expect(missing.code).toBe(2);
    expect(onlyJson(missing).error).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining("missing required argument 'commit'") });
    expect(unknownOption.code).toBe(2);
    expect(noSubcommand.code).toBe(2);
    expect(badLimit.code).toBe(2);
    expect(onlyJson(badLimit).error.message).toMatch(/limit/);
    expect(badName.code).toBe(2);
    expect(onlyJson(badName).error.details.problems[0]).toMatch(/^name:/);
    expect(badCommit.code).toBe(2);
    expect(badCommit.stderr).toMatch(/^fleetcast: invalid request body: commit: give 7 to 64 hexadecimal characters/);
  });

  it('exits 1 for NOT_FOUND and 3 for a refusal by a rule (FORBIDDEN, UNAUTHORIZED)', async () => {
    const missing = await cli('show', 'b999999', '--json');
    expect(missing.code).toBe(1);
    expect(onlyJson(missing).error.code).toBe('NOT_FOUND');

    const viewer = { ...c.env, FLEETCAST_API_TOKEN: readToken };
    expect((await runCli(['builds', '--json'], viewer)).code).toBe(0);
    const forbidden = await runCli(['build', 'api', commit, '--json'], viewer);
    expect(forbidden.code).toBe(3);
    expect(onlyJson(forbidden).error).toMatchObject({ code: 'FORBIDDEN', details: { needed: 'build', token: 'viewer' } });
    const text = await runCli(['service', 'add', 'web', '--repo', '/x', '--build', 'make', '--artifact', 'out'], viewer);
    expect(text.code).toBe(3);
    expect(text.stdout).toBe('');
    expect(text.stderr).toMatch(/may not register services: that needs scope admin/);

    const wrong = await runCli(['builds', '--json'], { ...c.env, FLEETCAST_API_TOKEN: 'wrong-token' });
    expect(wrong.code).toBe(3);
    expect(onlyJson(wrong).error.code).toBe('UNAUTHORIZED');
  });

  it('finds the coordinator through the data directory: up.json, or the local api-token', async () => {
    const upDir = fs.mkdtempSync(path.join(dir, 'up-'));
    fs.writeFileSync(path.join(upDir, 'up.json'), JSON.stringify({ apiUrl: c.url, token: c.token, regions: ['local'], processes: [] }));
    expect((await runCli(['service', 'list', '--json'], { FLEETCAST_DATA_DIR: upDir })).code).toBe(0);

    // No token given: the admin token of the data directory, since the coordinator is local.
    const local = await runCli(['builds', '--json'], { FLEETCAST_DATA_DIR: c.dataDir, FLEETCAST_API_URL: c.url });
    expect(local.code).toBe(0);
    expect(onlyJson(local).builds.length).toBeGreaterThan(0);

    const none = await runCli(['builds', '--json'], { FLEETCAST_DATA_DIR: dir, FLEETCAST_API_URL: c.url });
    expect(none.code).toBe(3);
    expect(onlyJson(none).error.message).toMatch(/^no API token found \(looked at .*api-token\)/);

    const flags = await runCli(['builds', '--json', '--api-url', c.url, '--api-token', readToken, '--data-dir', dir], {});
    expect(flags.code).toBe(0);
  });

  it('says which URL it tried when the coordinator is not there', async () => {
    const port = await freePort();
    const run = await runCli(['builds', '--json'], { FLEETCAST_DATA_DIR: dir, FLEETCAST_API_URL: `http://127.0.0.1:${port}`, FLEETCAST_API_TOKEN: 'x' });
    expect(run.code).toBe(1);
    const { error } = onlyJson(run);
    expect(error.code).toBe('COORDINATOR_UNREACHABLE');
    expect(error.message).toContain(`cannot reach the coordinator at http://127.0.0.1:${port} (ECONNREFUSED; that address is set by --api-url`);
    expect(error.message).toMatch(/fleetcast coordinator/);
  });

  it('shows the audit as a table for people, and refuses it to a read token', async () => {
    const run = await cli('audit', '--service', 'api');
    expect(run.code, run.stderr).toBe(0);
    const [header, ...rows] = run.stdout.trim().split('\n');
    expect(header).toMatch(/^ID\s+AT\s+ACTOR\s+ACTION\s+TARGET\s+RESULT\s+DETAIL$/);
    expect(rows.some((row) => /local-admin\s+service-add\s+api\s+ok\s+repo=\/srv\/git\/api/.test(row))).toBe(true);
    const refused = await runCli(['audit', '--json'], { ...c.env, FLEETCAST_API_TOKEN: readToken });
    expect(refused.code).toBe(3);
    expect(onlyJson(refused).error.message).toContain('needs scope admin');
  });

  it('has --help on the client commands, with the shared flags', async () => {
    // Every client command is made by clientCommand(), so a sample covers the flags of all.
    const commands = [['service', 'add'], ['build'], ['logs']];
    const runs = await Promise.all(commands.map((command) => cli(...command, '--help')));
    for (const [i, run] of runs.entries()) {
      expect(run.code, commands[i]!.join(' ')).toBe(0);
      expect(run.stdout).toContain('--json');
      expect(run.stdout).toContain('--api-url');
    }
  });
});
