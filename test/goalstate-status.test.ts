// Agents' reports in status-<region> and the coordinator's aggregate of them, with a few
// hundred simulated machines on a real leaf, read through the hub as the coordinator does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoalWriter, RegionStatusView, StatusReporter, type GoalTarget, type NatsConnection, type StatusUpdate } from '../goalstate/index.ts';
import { eventually } from './support/eventually.ts';
import { TestNatsCluster } from './support/nats-cluster.ts';

const connect = { maxReconnectDelayMs: 300, timeoutMs: 2_000 };
const silentAfterMs = 1_500;
let cluster: TestNatsCluster;
let writer: GoalWriter;
let view: RegionStatusView;
let agentConnections: NatsConnection[];
const reporters = new Map<string, StatusReporter>();

async function reporter(machine: string): Promise<StatusReporter> {
  let r = reporters.get(machine);
  if (!r) {
    // Agents share a few connections here; each still writes only its own keys.
    const connection = agentConnections[reporters.size % agentConnections.length]!;
    r = await StatusReporter.connect({ url: cluster.urls.agents.eu!, region: 'eu', machine, connection, progressIntervalMs: 200 });
    reporters.set(machine, r);
  }
  return r;
}

async function reportAll(machines: string[], update: (i: number) => StatusUpdate, service = 'api'): Promise<void> {
  const results = await Promise.all(machines.map(async (m, i) => (await reporter(m)).report(service, update(i))));
  expect(results.every(Boolean)).toBe(true);
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => `m${from + i}`);
/** The signed goals the machines run: a running machine reports the goal's digest and sequence, as an agent does. */
const b2: GoalTarget = { build: 'b2', digest: '2'.repeat(64), seq: 1_800_000_000_002 };
const b7: GoalTarget = { build: 'b7', digest: '7'.repeat(64), seq: 1_800_000_000_007 };
const runs = (goal: GoalTarget, extra: Partial<StatusUpdate> = {}): StatusUpdate => ({ build: goal.build, state: 'running', digest: goal.digest, seq: goal.seq, ...extra });

beforeAll(async () => {
  cluster = await TestNatsCluster.start(['eu', 'us']);
  writer = await GoalWriter.connect({ url: cluster.urls.hub, regions: ['eu', 'us'], connect });
  await writer.ensureBuckets();
  agentConnections = await Promise.all([1, 2, 3, 4].map(() => cluster.rawConnect(cluster.urls.agents.eu!)));
  // The coordinator's view: through the hub (and the leaf link), on the writer's connection setup.
  view = await RegionStatusView.connect({ url: cluster.urls.hub, region: 'eu', silentAfterMs, connect });
  await view.ready;
});

afterAll(async () => {
  await Promise.all([...reporters.values()].map((r) => r.close()));
  await view?.close();
  await writer?.close();
  await cluster?.stop();
});

describe('status reports of 300 machines', () => {
  it('aggregate into running / downloading / failed / silent / other against the goal build', async () => {
    // 30 machines report once and then go quiet.
    await reportAll(range(0, 30), () => runs(b2));
    await new Promise((resolve) => setTimeout(resolve, silentAfterMs + 300));
    await reportAll(range(30, 150), () => runs(b2, { peers: 3 }));
    await reportAll(range(180, 60), (i) => ({ build: 'b2', state: i % 3 === 0 ? 'verifying' : 'downloading', bytes: 100 * i, total: 10_000 }));
    await reportAll(range(240, 30), (i) => ({ build: 'b2', state: 'failed', error: `disk full on m${240 + i}` }));
    await reportAll(range(270, 20), () => ({ build: 'b1', state: 'running' }));
    await reportAll(range(290, 10), () => ({ build: null, state: 'idle' }));
    await reportAll(range(0, 40), () => runs(b7), 'web');

    await eventually(() => view.size === 340, 10_000, 'all 340 reports in the view');
    const summary = view.summary('api', b2);
    expect(summary).toMatchObject({
      region: 'eu',
      service: 'api',
      goalBuild: 'b2',
      machines: 300,
      running: 150,
      downloading: { machines: 60, bytes: 100 * ((59 * 60) / 2), total: 60 * 10_000 },
      silent: 30,
      other: 30,
      runningBuilds: { b2: 150, b1: 20 },
    });
    expect(summary.failed.machines).toBe(30);
    expect(summary.failed.examples).toHaveLength(5);
    expect(summary.failed.examples[0]).toMatchObject({ build: 'b2', error: expect.stringMatching(/^disk full on m2\d\d$/) });
    expect(view.summary('web', b7)).toMatchObject({ machines: 40, running: 40, silent: 0 });
    expect(view.summary('api', null)).toMatchObject({ machines: 300, running: 170, other: 10 });
    expect(view.services()).toEqual(['api', 'web']);
  });

  it('silent machines that report again count again; a removed report leaves the count', async () => {
    await reportAll(range(0, 30), () => runs(b2));
    await eventually(() => view.summary('api', b2).running === 180, 10_000, '180 running');
    expect(view.summary('api', b2).silent).toBe(0);
    await (await reporter('m299')).remove('api');
    await eventually(() => view.summary('api', b2).machines === 299, 10_000, 'm299 removed');
  });

  it('malformed reports are counted apart, not aggregated', async () => {
    const raw = await cluster.rawKv(cluster.urls.leaves.eu!, 'status-eu');
    await raw.put('api.broken', new TextEncoder().encode('{"v":1,"state":"exploded"}'));
    await eventually(() => view.invalidReports === 1, 10_000, 'the malformed report');
    expect(view.summary('api', b2).machines).toBe(299);
  });

  it('a machine reporting the goal build with another digest or goal sequence is not counted as running it', async () => {
    await reportAll(['fake-1'], () => runs(b2, { digest: 'e'.repeat(64) }));
    await reportAll(['fake-2'], () => runs(b2, { seq: b2.seq! - 1 }));
    await eventually(() => view.summary('api', b2).mismatched === 2, 10_000, 'the two faked reports');
    expect(view.summary('api', b2).running).toBe(180);
    for (const machine of ['fake-1', 'fake-2']) await (await reporter(machine)).remove('api');
    await eventually(() => view.summary('api', b2).mismatched === 0, 10_000, 'the faked reports removed');
  });

  it('refusals: machines refusing now, by code, and a counter of refusals that only grows', async () => {
    const refusal = (code: 'GOAL_SIGNATURE_INVALID' | 'GOAL_REPLAYED', n: number): Partial<StatusUpdate> => ({ refusal: { code, message: `${code} of goal api.eu`, purpose: 'goal', at: new Date().toISOString() }, refusals: n });
    const before = view.refusalsSeen().get('GOAL_SIGNATURE_INVALID') ?? 0;
    await reportAll(['r1', 'r2'], () => runs(b2, refusal('GOAL_SIGNATURE_INVALID', 1)));
    await reportAll(['r3'], () => runs(b2, refusal('GOAL_REPLAYED', 2)));
    await eventually(() => view.summary('api', b2).refused.machines === 3, 10_000, 'three refusing machines');
    expect(view.summary('api', b2).refused.codes).toEqual({ GOAL_SIGNATURE_INVALID: 2, GOAL_REPLAYED: 1 });
    expect(view.refusalsSeen().get('GOAL_SIGNATURE_INVALID')).toBe(before + 2);
    // r1 refuses once more; then all three accept a signed goal again: none refuses now, the counter keeps what happened.
    await reportAll(['r1'], () => runs(b2, refusal('GOAL_SIGNATURE_INVALID', 2)));
    await eventually(() => view.refusalsSeen().get('GOAL_SIGNATURE_INVALID') === before + 3, 10_000, 'the third refusal counted');
    await reportAll(['r1', 'r2', 'r3'], () => runs(b2, { refusal: null, refusals: 2 }));
    await eventually(() => view.summary('api', b2).refused.machines === 0, 10_000, 'no machine refusing');
    expect(view.refusalsSeen().get('GOAL_SIGNATURE_INVALID')).toBe(before + 3);
    expect(view.refusalsSeen().get('GOAL_REPLAYED')).toBe(2);
    for (const machine of ['r1', 'r2', 'r3']) await (await reporter(machine)).remove('api');
  });

  it('progress is throttled, state changes are not', async () => {
    const leaf = await cluster.rawManager(cluster.urls.leaves.eu!);
    const before = (await leaf.streams.info('KV_status-eu')).state.last_seq;
    const r = await reporter('m500');
    const sends = [];
    for (let i = 1; i <= 10; i++) sends.push(r.report('api', { build: 'b3', state: 'downloading', bytes: i * 10, total: 100 }));
    sends.push(r.report('api', { build: 'b3', state: 'installing', bytes: 100, total: 100 }));
    await Promise.all(sends);
    const writes = (await leaf.streams.info('KV_status-eu')).state.last_seq - before;
    expect(writes).toBeLessThanOrEqual(3);
    await eventually(() => view.report('api', 'm500')?.state === 'installing', 10_000, 'installing');
  });

  it('the view rides out a leaf restart and keeps its reports meanwhile', async () => {
    await cluster.stopLeaf('eu');
    expect(view.summary('api', b2).machines).toBe(300); // 299 and m500
    await cluster.startLeaf('eu');
    await eventually(async () => (await reporter('m0')).report('api', { build: 'b2', state: 'failed', error: 'after restart' }), 15_000, 'a report after the restart');
    // Through the hub the view finds its consumer gone within its check interval (1 s) and watches anew.
    await eventually(() => view.report('api', 'm0')?.error === 'after restart', 10_000, 'the view to see the new report');
    expect(view.summary('api', b2).machines).toBe(300);
    // Live again: a new report shows at once, and counts as fresh.
    await (await reporter('m1')).report('api', { build: 'b2', state: 'failed', error: 'live again' });
    await eventually(() => view.summary('api', b2).failed.examples.some((e) => e.machine === 'm1'), 5_000, 'm1 failed, fresh');
  });
});
