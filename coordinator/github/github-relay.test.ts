// The GitHub relay on each SQL dialect, with the real @octokit/rest client against the local
// fake: commit statuses in order; a refused call is given up after its tries and the events
// behind it go on; a restarted relay sends nothing twice and nothing from before it first started.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Database } from '../../entities/index.ts';
import { silentLogger } from '../../logging/index.ts';
import { BuildQueue } from '../../queue/index.ts';
import { ServiceRegistry } from '../../queue/services/index.ts';
import { freshDatabase, type TestDatabase } from '../../test/support/databases.ts';
import { eventually } from '../../test/support/eventually.ts';
import { FakeGithubServer } from '../../test/support/fake-github-server.ts';
import { GithubRelay } from './github-relay.ts';

describe.each(['sqlite', 'mysql'] as const)('the GitHub relay on %s', (dialect) => {
  let testDb: TestDatabase;
  let db: Database;
  let github: FakeGithubServer;
  let queue: BuildQueue;
  const relays: GithubRelay[] = [];
  const start = async () => {
    const relay = await GithubRelay.start(db, { auth: { token: github.token }, apiUrl: github.url, intervalMs: 50, retryMs: 50, logger: silentLogger() });
    relays.push(relay);
    return relay;
  };
  const built = async (commit: string, outcome: 'ok' | 'fail') => {
    await queue.submit({ service: 'api', commit });
    const claimed = (await queue.claim('test-builder'))!;
    if (outcome === 'ok') await queue.succeed(claimed.claim, { digest: 'f'.repeat(64), size: 1 });
    else await queue.fail(claimed.claim, 'exited with code 1');
  };

  beforeEach(async () => {
    testDb = await freshDatabase(dialect);
    db = await Database.open({ url: testDb.url, sqlitePath: testDb.sqlitePath });
    github = await FakeGithubServer.start();
    const services = new ServiceRegistry(db);
    queue = new BuildQueue(db, services);
    await services.add({ name: 'api', repo: 'git@github.com:acme/api.git', buildCommand: 'make', artifactPath: 'out/api' });
  });

  afterEach(async () => {
    for (const relay of relays.splice(0)) await relay.stop();
    await github.close();
    await db.close();
    await testDb.drop();
  });

  it('sends only builds made since it first started, in order, once across restarts', async () => {
    await built('0'.repeat(40), 'ok');
    const first = await start();
    await built('1'.repeat(40), 'ok');
    await eventually(async () => github.of('status').length === 2, 10_000, 'two statuses');
    await first.stop();
    await built('2'.repeat(40), 'fail');
    await start();
    await eventually(async () => github.of('status').length === 4, 10_000, 'the later build too');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(github.of('status').map((s) => [s.sha.slice(0, 1), s.state])).toEqual([
      ['1', 'pending'],
      ['1', 'success'],
      ['2', 'pending'],
      ['2', 'failure'],
    ]);
  });

  it('gives up a call GitHub keeps refusing, and the events behind it go on', async () => {
    const relay = await start();
    // A status GitHub answers 422 for (the fake accepts only its four states).
    await relay.outbox.add('test:bad', 'acme/api', { kind: 'commit-status', sha: 'a'.repeat(40), state: 'bogus' as 'pending', context: 'x', description: 'x' });
    await built('3'.repeat(40), 'ok');
    await eventually(async () => github.of('status').length === 2, 20_000, 'the statuses behind the refused one');
    const [row] = await db.query(`SELECT attempts, last_error, delivered_at FROM github_outbox WHERE event_key = 'test:bad'`);
    expect(Number(row!.attempts)).toBe(5);
    expect(String(row!.last_error)).toMatch(/^given up: /);
    expect(await relay.outbox.backlog()).toBe(0);
  });
});
