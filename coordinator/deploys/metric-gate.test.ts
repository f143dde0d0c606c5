// The hold and grace logic of the metric gate, with the query answered by the test (the real
// Prometheus is in test/deploy-metric-gate.test.ts): times are given, never waited for.
import { describe, expect, it } from 'vitest';
import { FleetcastError } from '../../errors/index.ts';
import { silentLogger } from '../../logging/index.ts';
import type { MetricGate as MetricGateRule } from '../../queue/services/index.ts';
import type { Deployment } from './deployment.ts';
import { MetricGate, type GateStep } from './metric-gate.ts';
import type { PrometheusReading } from './prometheus-query.ts';
import type { Wave } from './waves.ts';

const rule: MetricGateRule = { query: 'sum(rate(errors_total{region="{{region}}",build="{{build}}"}[1m]))', max: 0.5, holdMs: 60_000 };
const t0 = Date.parse('2026-12-08T03:00:00Z');
const at = (ms: number) => new Date(t0 + ms);

function deployment(kind: Deployment['kind'] = 'deploy'): Deployment {
  return { id: 'd7', service: 'api', build: 'b42', regions: ['eu', 'us'], kind, requestedBy: 'alice', reason: '', status: 'ROLLING', createdAt: at(-60_000), error: null, waves: [], convergedAt: null, rollback: null };
}

const wave = (gate?: Wave['gate']): Wave => ({ regions: ['eu', 'us'], status: 'WRITTEN', writtenAt: at(-30_000), doneAt: null, goals: {}, ...(gate ? { gate } : {}) });

/** A gate whose queries are answered by `answer` (per rendered query), recording them. */
function gate(answer: (query: string) => PrometheusReading | Error, withRule: MetricGateRule | null = rule) {
  const asked: string[] = [];
  const metricGate = new MetricGate({
    url: 'http://prometheus.test:9090',
    services: { get: async () => ({ metricGate: withRule }) as never },
    everyMs: 10_000,
    graceMs: 120_000,
    logger: silentLogger(),
    query: async (_url, query) => {
      asked.push(query);
      const reading = answer(query);
      if (reading instanceof Error) throw reading;
      return reading;
    },
  });
  /** Runs check as the wave runner does: the gate record of each step goes back into the wave. */
  let current = wave();
  const check = async (ms: number): Promise<GateStep> => {
    const step = await metricGate.check(deployment(), current, 0, at(ms));
    if (step.kind !== 'none') current = wave(step.gate);
    return step;
  };
  return { metricGate, asked, check };
}

const value = (v: number): PrometheusReading => ({ kind: 'value', value: v, series: 1 });
const unavailable = () => new FleetcastError('METRICS_UNAVAILABLE', 'Prometheus at http://prometheus.test:9090 did not answer');

describe('MetricGate', () => {
  it('no gate for a service without a rule, nor for rollbacks', async () => {
    const { metricGate, asked } = gate(() => value(9), null);
    expect(await metricGate.check(deployment(), wave(), 0, at(0))).toEqual({ kind: 'none' });
    expect(await gate(() => value(9)).metricGate.check(deployment('rollback'), wave(), 0, at(0))).toEqual({ kind: 'none' });
    expect(asked).toEqual([]);
  });

  it('asks each region with its own query, holds within bounds, asks again only every FLEETCAST_PROMETHEUS_EVERY, and passes after holdMs', async () => {
    const { asked, check } = gate(() => value(0.2));
    const first = await check(0);
    expect(first).toMatchObject({ kind: 'holding', changed: true, gate: { status: 'HOLDING', since: at(0).toISOString(), values: { eu: 0.2, us: 0.2 } } });
    expect(asked).toEqual(['sum(rate(errors_total{region="eu",build="b42"}[1m]))', 'sum(rate(errors_total{region="us",build="b42"}[1m]))']);
    expect(await check(5_000)).toMatchObject({ kind: 'holding', changed: false });
    expect(asked).toHaveLength(2);
    expect(await check(10_000)).toMatchObject({ kind: 'holding', changed: true });
    expect(asked).toHaveLength(4);
    // Held: asked once more at once, and passes on that value.
    expect(await check(60_000)).toMatchObject({ kind: 'passed', gate: { status: 'PASSED', values: { eu: 0.2, us: 0.2 }, checkedAt: at(60_000).toISOString() } });
    expect(asked).toHaveLength(6);
  });

  it('one value above max in one region fails the wave at once, naming the query, the value, the region and the threshold', async () => {
    let us = 0.1;
    const { check } = gate((query) => value(query.includes('"us"') ? us : 0));
    expect(await check(0)).toMatchObject({ kind: 'holding' });
    us = 3.5;
    const step = await check(20_000);
    expect(step).toMatchObject({ kind: 'failed', gate: { status: 'FAILED', values: { eu: 0, us: 3.5 } } });
    expect(step.kind === 'failed' && step.reason).toBe('metric gate: sum(rate(errors_total{region="us",build="b42"}[1m])) = 3.5 in us, above 0.5 (within 20 s of the wave converging)');
  });

  it('fails closed: no value (Prometheus unreachable, or no data) holds within FLEETCAST_PROMETHEUS_GRACE, then fails the wave', async () => {
    let reading: () => PrometheusReading | Error = unavailable;
    const { check } = gate(() => reading(), { ...rule, holdMs: 300_000 });
    expect(await check(0)).toMatchObject({ kind: 'holding', gate: { values: { eu: null, us: null }, reason: 'Prometheus at http://prometheus.test:9090 did not answer' } });
    // A value within the grace starts the grace again.
    reading = () => value(0);
    expect(await check(100_000)).toMatchObject({ kind: 'holding' });
    reading = () => ({ kind: 'no-data' });
    expect(await check(110_000)).toMatchObject({ kind: 'holding', gate: { reason: expect.stringContaining('no data for sum(rate(errors_total{region="eu"') } });
    const failed = await check(221_000);
    expect(failed).toMatchObject({ kind: 'failed', gate: { status: 'FAILED' } });
    expect(failed.kind === 'failed' && failed.reason).toMatch(/^metric gate: no value for 121 s, more than FLEETCAST_PROMETHEUS_GRACE \(2 min\), so the gate fails closed: no data for sum\(rate\(errors_total\{region="eu"/);
  });

  it('a query Prometheus refuses fails the wave at once', async () => {
    const { check } = gate(() => new FleetcastError('METRICS_QUERY_INVALID', "Prometheus refused the metric gate's query x (bad_data: parse error)"));
    expect(await check(0)).toMatchObject({ kind: 'failed', reason: "metric gate: Prometheus refused the metric gate's query x (bad_data: parse error)" });
  });
});
