// The level-triggered loop of one service: a goal brings the build (real bucket fetcher, real
// processes), the same goal delivered again does nothing, a failed goal is retried after its
// pause, and a goal for another build stops the work on the old one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../blobstore/index.ts';
import type { GoalContent, GoalUpdate, StatusUpdate } from '../../goalstate/index.ts';
import { silentLogger } from '../../logging/index.ts';
import { CountingFetcher, SilentFetcher, storeArtifact } from '../../test/support/agent-artifacts.ts';
import { eventually } from '../../test/support/eventually.ts';
import { testGoalKeys } from '../../test/support/goal-keys.ts';
import type { ArtifactFetcher } from '../fetch/artifact-fetcher.ts';
import { BucketFetcher } from '../fetch/bucket-fetcher.ts';
import { RateLimiter } from '../limits/rate-limiter.ts';
import { AgentLayout } from './agent-layout.ts';
import { BuildCache } from './build-cache.ts';
import { ServiceReconciler } from './service-reconciler.ts';
import { SupervisedRunner } from './supervised-runner.ts';

let dir: string;
let store: FsBlobStore;
let layout: AgentLayout;
let reports: StatusUpdate[];
let reconciler: ServiceReconciler | undefined;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-reconciler-'));
  store = await FsBlobStore.open({ root: path.join(dir, 'buckets'), bucket: 'fleetcast-eu', fsync: false });
  layout = new AgentLayout(path.join(dir, 'agent'));
  reports = [];
});

afterEach(async () => {
  await reconciler?.stop({ stopServices: true });
  reconciler = undefined;
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function start(fetcher: ArtifactFetcher): ServiceReconciler {
  reconciler = new ServiceReconciler(
    {
      service: 'api',
      machine: 'm1',
      layout,
      cache: new BuildCache(layout, silentLogger()),
      fetcher,
      runner: new SupervisedRunner({ service: 'api', region: 'eu', machine: 'm1' }, layout, { stopGraceMs: 1_000 }, silentLogger()),
      status: { report: (_service, update) => reports.push(update) },
      onCacheChanged: () => undefined,
      logger: silentLogger(),
    },
    { cacheBuilds: 3, minFreeBytes: 0, health: { graceMs: 200, timeoutMs: 5_000, pollMs: 50 }, retryMinMs: 300, retryMaxMs: 1_000 },
  );
  return reconciler;
}

const bucket = () => new CountingFetcher(new BucketFetcher({ store, limiter: new RateLimiter(null), logger: silentLogger() }));
const keys = testGoalKeys();
afterAll(() => keys.remove());
// Signed as the coordinator signs (the watch delivers only accepted documents); the revision doubles as the sequence.
const update = (goal: GoalContent | null, revision: number): GoalUpdate => ({ service: 'api', region: 'eu', goal: goal && keys.sign(goal, revision), revision, storedAt: new Date() });
const last = () => reports.at(-1);

describe('ServiceReconciler', () => {
  it('a goal brings its build: downloading, verifying, installing, running; the same goal again fetches nothing', async () => {
    const a = await storeArtifact([store], 'api', 1, 3_000, 'exec sleep 30\n');
    const fetcher = bucket();
    const r = start(fetcher);
    await r.start();
    expect(last()).toMatchObject({ build: null, state: 'idle' });
    r.setGoal(update(a.goal('eu', { runCommand: 'sh ./api' }), 1));
    await eventually(() => (expect(last()).toMatchObject({ build: 'b1', state: 'running', digest: a.digest, seq: 1 }), true));
    expect(reports.map((u) => u.state)).toEqual(expect.arrayContaining(['downloading', 'verifying', 'installing', 'running']));
    expect(r.currentBuild?.goal.build).toBe('b1');
    r.setGoal(update(a.goal('eu', { runCommand: 'sh ./api' }), 1));
    await eventually(() => (expect(last()).toMatchObject({ build: 'b1', state: 'running', digest: a.digest, seq: 1 }), true));
    expect(fetcher.fetches).toEqual(['api/b1']);
  });

  it('a goal that fails is reported failed with its attempt and tried again after the pause', async () => {
    const a = await storeArtifact([], 'api', 2, 1_000);
    const fetcher = bucket();
    const r = start(fetcher);
    await r.start();
    // The bucket does not hold b2: NOT_FOUND, then again after the pause.
    r.setGoal(update(a.goal('eu'), 5));
    await eventually(() => fetcher.fetches.length >= 2, 10_000);
    const failed = reports.find((u) => u.state === 'failed');
    expect(failed).toMatchObject({ build: 'b2' });
    expect(failed!.error).toMatch(/attempt 1; next in/);
  });

  it('a goal for another build stops the download in progress and brings the new one', async () => {
    const b = await storeArtifact([store], 'api', 4, 2_000);
    const silent = new SilentFetcher();
    let calls = 0;
    const routed: ArtifactFetcher = {
      // b3 never arrives; b4 comes from the bucket.
      fetch: (request) => (++calls, request.goal.build === 'b3' ? silent.fetch(request) : bucket().fetch(request)),
      retain: async () => undefined,
      close: async () => undefined,
    };
    const r = start(routed);
    await r.start();
    r.setGoal(update({ ...b.goal('eu'), build: 'b3' }, 1));
    await eventually(() => (expect(silent.calls).toBe(1), true));
    r.setGoal(update(b.goal('eu'), 2));
    await eventually(() => (expect(last()).toMatchObject({ build: 'b4', state: 'running', seq: 2 }), true));
    expect(silent.aborted).toBe(1);
    expect(calls).toBe(2);
  });
});
