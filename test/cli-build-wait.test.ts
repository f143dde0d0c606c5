import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Build } from '../coordinator/index.ts';
import { onlyJson, startCli, type RunningCli } from './support/cli.ts';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.ts';

const commit = 'beef'.repeat(10);
const digest = '5'.repeat(64);

/** A log the test writes to while the CLI follows it. */
class TestLog {
  text = '';
  async read(_build: Build, offset: number) {
    const chunk = this.text.slice(offset);
    return { text: chunk, nextOffset: offset + chunk.length };
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, cli?: RunningCli): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; CLI so far: ${JSON.stringify(cli?.output())}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// The builder worker is someone else's; the test plays it by driving the queue directly.
describe('fleetcast build --wait and logs --follow (real executable, MariaDB coordinator)', () => {
  let c: TestCoordinator;
  let log: TestLog;

  beforeEach(async () => {
    log = new TestLog();
    c = await startTestCoordinator('mysql', { overrides: { buildLogs: log } });
    await c.handle.services.add({ name: 'api', repo: '/srv/git/api', buildCommand: 'make', artifactPath: 'out/api' });
  });

  afterEach(async () => {
    await c.stop();
  });

  const queuedBuild = (cli: RunningCli) => until('the build to be queued', async () => (await c.handle.queue.list())[0], cli);

  it('returns when the build succeeds, with the final build as its JSON and progress on stderr', async () => {
    const cli = startCli(['build', 'api', commit, '--wait', '--json'], c.env);
    const build = await queuedBuild(cli);
    // Wait for the CLI to be listening before the build moves on, so every step is seen.
    await until('the CLI to show QUEUED', () => (cli.output().stderr.includes('QUEUED') ? true : undefined), cli);
    const claimed = (await c.handle.queue.claim('test-worker'))!;
    expect(claimed.build.id).toBe(build.id);
    await until('the CLI to show RUNNING', () => (cli.output().stderr.includes('RUNNING') ? true : undefined), cli);
    await c.handle.queue.succeed(claimed.claim, { digest, size: 2048 });

    const run = await cli.done;
    expect(run.code).toBe(0);
    expect(onlyJson(run)).toMatchObject({ id: `b${build.id}`, status: 'SUCCEEDED', digest, size: 2048, claimedBy: 'test-worker' });
    // Off a terminal: one line per status change, no carriage returns.
    const lines = run.stderr.trim().split('\n');
    expect(lines[0]).toBe(`queued b${build.id} (api @ ${commit.slice(0, 12)})`);
    expect(lines.slice(1).map((line) => line.split(': ')[1]!.split(/[ ,]/)[0])).toEqual(['QUEUED', 'RUNNING', 'SUCCEEDED']);
    expect(run.stderr).not.toContain('\r');
  });

  it('exits 1 and prints the reason when the build fails', async () => {
    const cli = startCli(['build', 'api', commit, '--wait'], c.env);
    await queuedBuild(cli);
    await until('the CLI to listen', () => (cli.output().stdout.includes('QUEUED,') ? true : undefined), cli);
    const claimed = (await c.handle.queue.claim('test-worker'))!;
    await c.handle.queue.fail(claimed.claim, 'build command exited with code 2');

    const run = await cli.done;
    expect(run.code).toBe(1);
    expect(run.stdout.trim().split('\n').at(-1)).toMatch(/^b\d+ api @ beefbeefbeef FAILED after .*: build command exited with code 2$/);
  });

  it('ends the wait when someone cancels the build', async () => {
    const cli = startCli(['build', 'api', commit, '--wait', '--json'], c.env);
    const build = await queuedBuild(cli);
    await until('the CLI to listen', () => (cli.output().stderr.includes('QUEUED,') ? true : undefined), cli);
    await c.handle.queue.cancel(build.id, 'on-call');
    const run = await cli.done;
    expect(run.code).toBe(1);
    expect(onlyJson(run)).toMatchObject({ status: 'FAILED', cancelledBy: 'on-call', failureReason: 'cancelled by on-call' });
  });

  it('follows a log until the build is final', async () => {
    const { build } = await c.handle.queue.submit({ service: 'api', commit });
    log.text = 'cloning\n';
    const cli = startCli(['logs', `b${build.id}`, '--follow'], c.env);
    await until('the first chunk', () => (cli.output().stdout === 'cloning\n' ? true : undefined), cli);
    log.text += 'building\n';
    await until('the second chunk', () => (cli.output().stdout.endsWith('building\n') ? true : undefined), cli);
    const claimed = (await c.handle.queue.claim('test-worker'))!;
    log.text += 'done\n';
    await c.handle.queue.succeed(claimed.claim, { digest, size: 1 });

    const run = await cli.done;
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('cloning\nbuilding\ndone\n');
  });
});
