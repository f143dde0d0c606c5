// Metric gates with a real Prometheus (Debian's, started by the test on its own port and storage)
// scraping the sample service (test/fixtures/sample-metrics-service.ts) that real agents run, and a
// real coordinator on MariaDB: a deploy's waves pass their gate while the new build's error rate
// stays flat; when the test raises it during the canary's hold, the wave fails, the deployment
// ends FAILED with the query, the value and the threshold in its reason, and the canary is rolled
// back automatically while the later region never runs the bad build.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { queryPrometheus } from '../coordinator/index.ts';
import { isFleetcastError } from '../errors/index.ts';
import type { StatusReport } from '../goalstate/index.ts';
import { TestFleet, type TestAgent } from './support/agent-fleet.ts';
import { storeArtifact } from './support/agent-artifacts.ts';
import { serviceBody, startTestCoordinator, type TestCoordinator } from './support/coordinator.ts';
import { deployableBuild } from './support/deployable-build.ts';
import { eventually } from './support/eventually.ts';
import { repoRoot } from './support/processes.ts';
import { TestPrometheus } from './support/prometheus.ts';

const regions = ['eu', 'us'];
const query = 'sum(rate(sample_errors_total{service="{{service}}",region="{{region}}",build="{{build}}"}[5s]))';
const max = 0.5;
/** Long enough for the test to raise the error rate while the canary holds, on a busy machine. */
const holdMs = 12_000;
/** Longer than the sample service takes to be scraped twice after it starts (rate needs two samples). */
const graceMs = 15_000;
let fleet: TestFleet;
let prometheus: TestPrometheus;
let coordinator: TestCoordinator;
let dir: string;
const agents: TestAgent[] = [];

/** The sample service as a build: a script that execs it (sh stops reading there; random bytes follow). */
async function sampleBuild(): Promise<string> {
  const script = `#!/bin/sh\necho "$FLEETCAST_BUILD_ID $FLEETCAST_MACHINE $$" >> ../../runs.log\nexec '${process.execPath}' '${path.join(repoRoot, 'test/fixtures/sample-metrics-service.ts')}' '${path.join(dir, 'targets')}' '${path.join(dir, 'control')}'\n`;
  const build = await deployableBuild(coordinator.handle, 'api', regions, [], async (id) => {
    const stored = await storeArtifact(await Promise.all(regions.map((r) => fleet.bucket(r))), 'api', id, 20_000, script);
    return { digest: stored.digest, size: stored.bytes.length };
  });
  return `b${build.id}`;
}

/** What the test does to a build in production: its error counter rises by `perSecond`. */
const raiseErrors = (build: string, perSecond: number) => fs.writeFileSync(path.join(dir, 'control', `errors-${build}`), String(perSecond));

const deploy = async (build: string) => {
  const reply = await coordinator.request('POST', '/v1/deployments', { body: { build } });
  expect(reply.status, reply.text).toBe(201);
  return reply.json.id as string;
};
const deploymentJson = async (id: string) => (await coordinator.request('GET', `/v1/deployments/${id}`)).json;
const running = (build: string) => (r: StatusReport) => r.state === 'running' && r.build === build;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-gate-'));
  fs.mkdirSync(path.join(dir, 'targets'));
  fs.mkdirSync(path.join(dir, 'control'));
  prometheus = await TestPrometheus.start(path.join(dir, 'targets'));
  fleet = await TestFleet.start(regions);
  coordinator = await startTestCoordinator('mysql', {
    env: {
      ...fleet.coordinatorEnv(),
      FLEETCAST_DEPLOY_WAVES: 'canary',
      FLEETCAST_PROMETHEUS_URL: prometheus.url,
      FLEETCAST_PROMETHEUS_EVERY: '1s',
      FLEETCAST_PROMETHEUS_GRACE: `${graceMs}ms`,
    },
  });
  const added = await coordinator.request('POST', '/v1/services', { body: serviceBody('api', { runCommand: 'sh ./api', metricGate: { query, max, holdMs } }) });
  expect(added.status, added.text).toBe(201);
  expect(added.json.metricGate).toEqual({ query, max, holdMs });
  for (const [region, machine] of [['eu', 'eu-1'], ['us', 'us-1']] as const) agents.push(await fleet.startAgent(region, machine, { env: { FLEETCAST_AGENT_SERVICES: 'api' } }));
}, 120_000);

afterAll(async () => {
  await coordinator?.stop();
  await fleet?.stop();
  await prometheus?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

it('a deploy whose error rate stays flat passes the gate of each wave: CONVERGED, each wave recording the values Prometheus gave', async () => {
  const good = await sampleBuild();
  const id = await deploy(good);
  const converged = await eventually(async () => {
    const d = await deploymentJson(id);
    if (d.status === 'FAILED') throw new Error(`${id} failed: ${d.error}`);
    return d.status === 'CONVERGED' && d;
  }, 90_000, `${id} to converge through both gates`);
  expect(converged.waves).toMatchObject([
    { regions: ['eu'], status: 'CONVERGED', gate: { query, max, holdMs, status: 'PASSED', values: { eu: 0 } } },
    { regions: ['us'], status: 'CONVERGED', gate: { status: 'PASSED', values: { us: 0 } } },
  ]);
  // Each wave held its gate for holdMs after its machines converged, before the next was written.
  const [canary, rest] = converged.waves as { writtenAt: string; doneAt: string; gate: { since: string } }[];
  expect(Date.parse(canary!.doneAt) - Date.parse(canary!.gate.since)).toBeGreaterThanOrEqual(holdMs);
  expect(Date.parse(rest!.writtenAt)).toBeGreaterThanOrEqual(Date.parse(canary!.doneAt));
  // Prometheus did scrape the sample service the agents run.
  expect((await prometheus.targets()).filter((t) => t.health === 'up').length).toBeGreaterThanOrEqual(2);
}, 120_000);

it("the new build's error counter rising during the canary's hold fails the wave: FAILED naming query, value and threshold, the canary rolled back", async () => {
  const good = (await coordinator.handle.deploys.status('api')).regions[0]!.goal!.build;
  const bad = await sampleBuild();
  const id = await deploy(bad);
  // The canary converged on the agents' health and its gate holds, within bounds so far.
  const holding = await eventually(async () => {
    const d = await deploymentJson(id);
    return d.waves[0].gate?.status === 'HOLDING' && d.waves[0].gate.values.eu === 0 && d;
  }, 60_000, `the canary of ${id} to hold its gate`);
  expect(holding.waves[1].status).toBe('PENDING');
  raiseErrors(bad, 5);

  const failed = await eventually(async () => {
    const d = await deploymentJson(id);
    return /^d\d+$/.test(d.rollback ?? '') && d;
  }, 60_000, `${id} to fail on its gate and be rolled back`);
  expect(failed).toMatchObject({ status: 'FAILED', waves: [{ regions: ['eu'], status: 'FAILED', gate: { status: 'FAILED' } }, { regions: ['us'], status: 'SKIPPED' }] });
  const rendered = query.replace('{{service}}', 'api').replace('{{region}}', 'eu').replace('{{build}}', bad);
  const reason = new RegExp(`^wave 1 \\(eu\\) failed: metric gate: ${escape(rendered)} = ([0-9.]+) in eu, above 0\\.5 `);
  expect(failed.error).toMatch(reason);
  expect(Number(reason.exec(failed.error)![1])).toBeGreaterThan(max);
  expect(failed.error).toMatch(new RegExp(`rolled back automatically: eu back on ${good} \\(${failed.rollback}\\); api is locked$`));
  expect(failed.waves[0].gate.values.eu).toBeGreaterThan(max);

  // The canary runs the good build again; the later region never ran the bad one.
  await fleet.reportOf('eu', 'api', 'eu-1', running(good), 30_000);
  expect(agents.find((a) => a.region === 'us')!.runs('api').map((r) => r.build)).not.toContain(bad);
  expect(agents.find((a) => a.region === 'us')!.current('api')).toBe(`builds/${good}`);
  const rollback = await eventually(async () => {
    const d = await deploymentJson(failed.rollback);
    return d.status === 'CONVERGED' && d;
  }, 30_000, 'the rollback to converge');
  // Rollbacks are not gated: they must not wait on the metrics of the build they undo.
  expect(rollback).toMatchObject({ kind: 'rollback', build: good, regions: ['eu'] });
  expect(rollback.waves[0].gate).toBeUndefined();
}, 150_000);

it("the real Prometheus' answers read as the gate expects: values, no data, and refused queries", async () => {
  // Both machines' sample services are scraped (up): the highest of the series is the reading.
  expect(await queryPrometheus(prometheus.url, 'sum(up{job="sample"})')).toMatchObject({ kind: 'value', series: 1 });
  expect(await queryPrometheus(prometheus.url, 'vector(2) or vector(7)')).toEqual({ kind: 'value', value: 2, series: 1 });
  expect(await queryPrometheus(prometheus.url, 'scalar(vector(3))')).toEqual({ kind: 'value', value: 3, series: 1 });
  expect(await queryPrometheus(prometheus.url, 'sample_errors_total{build="b999999"}')).toEqual({ kind: 'no-data' });
  expect(await queryPrometheus(prometheus.url, 'vector(1) / 0')).toEqual({ kind: 'value', value: Infinity, series: 1 });
  for (const bad of ['sum(rate(sample_errors_total[1m])', 'sample_errors_total[10s]']) {
    const err = await queryPrometheus(prometheus.url, bad).catch((e: unknown) => e);
    expect(isFleetcastError(err, 'METRICS_QUERY_INVALID'), String(err)).toBe(true);
  }
});

it('with Prometheus gone, the gate fails closed after FLEETCAST_PROMETHEUS_GRACE: FAILED saying so, the canary rolled back', async () => {
  expect((await coordinator.request('DELETE', '/v1/services/api/lock')).status).toBe(200);
  const good = (await coordinator.handle.deploys.status('api')).regions[0]!.goal!.build;
  await prometheus.stop();
  const blind = await sampleBuild();
  const id = await deploy(blind);
  const holding = await eventually(async () => {
    const d = await deploymentJson(id);
    return d.waves[0].gate?.status === 'HOLDING' && d.waves[0].gate.checkedAt && d;
  }, 60_000, `the canary of ${id} to hold its gate`);
  expect(holding.waves[0].gate).toMatchObject({ values: { eu: null }, reason: expect.stringMatching(/^Prometheus at http:\/\/127\.0\.0\.1:\d+ did not answer/) });
  const failed = await eventually(async () => {
    const d = await deploymentJson(id);
    return /^d\d+$/.test(d.rollback ?? '') && d;
  }, 90_000, `${id} to fail closed and be rolled back`);
  expect(failed.status).toBe('FAILED');
  // The grace is counted from the hold's start: the wave held at least that long.
  expect(Date.parse(failed.waves[0].doneAt) - Date.parse(failed.waves[0].gate.since)).toBeGreaterThan(graceMs);
  expect(failed.error).toMatch(/^wave 1 \(eu\) failed: metric gate: no value for [0-9.]+ s, more than FLEETCAST_PROMETHEUS_GRACE \(15 s\), so the gate fails closed: Prometheus at http:\/\/127\.0\.0\.1:\d+ did not answer the metric gate's query /);
  expect(failed.error).toMatch(new RegExp(`rolled back automatically: eu back on ${good} \\(${failed.rollback}\\); api is locked$`));
  await fleet.reportOf('eu', 'api', 'eu-1', running(good), 30_000);
}, 150_000);

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
