import { describe, expect, it } from 'vitest';
import type { FleetcastError } from '../../errors/index.ts';
import { freePort } from '../../ops/nats/free-port.ts';
import { queryPrometheus, readPrometheusAnswer } from './prometheus-query.ts';

const q = 'sum(rate(errors_total[1m]))';
const vector = (...values: string[]) => ({ status: 'success', data: { resultType: 'vector', result: values.map((v, i) => ({ metric: { machine: `m${i}` }, value: [1_765_000_000.1, v] })) } });

function refusal(run: () => unknown): FleetcastError {
  try {
    run();
  } catch (err) {
    return err as FleetcastError;
  }
  throw new Error('no error');
}

describe("reading Prometheus' answer to an instant query", () => {
  it('a vector gives its highest value (the worst series) and how many series had one', () => {
    expect(readPrometheusAnswer(q, 200, vector('0.1', '2.5', '0'))).toEqual({ kind: 'value', value: 2.5, series: 3 });
    expect(readPrometheusAnswer(q, 200, vector('+Inf'))).toEqual({ kind: 'value', value: Infinity, series: 1 });
  });

  it('a scalar gives its value', () => {
    expect(readPrometheusAnswer(q, 200, { status: 'success', data: { resultType: 'scalar', result: [1_765_000_000, '3'] } })).toEqual({ kind: 'value', value: 3, series: 1 });
  });

  it('no series, or only NaN (a rate over nothing), is no data', () => {
    expect(readPrometheusAnswer(q, 200, vector())).toEqual({ kind: 'no-data' });
    expect(readPrometheusAnswer(q, 200, vector('NaN', 'NaN'))).toEqual({ kind: 'no-data' });
    expect(readPrometheusAnswer(q, 200, vector('NaN', '1'))).toEqual({ kind: 'value', value: 1, series: 1 });
  });

  it('a query Prometheus refuses, or one giving a range, is METRICS_QUERY_INVALID: waiting will not fix it', () => {
    const bad = refusal(() => readPrometheusAnswer('sum(', 400, { status: 'error', errorType: 'bad_data', error: 'parse error: unclosed left parenthesis' }));
    expect(bad.code).toBe('METRICS_QUERY_INVALID');
    expect(bad.message).toBe("Prometheus refused the metric gate's query sum( (bad_data: parse error: unclosed left parenthesis); fix the service's gate query");
    const matrix = refusal(() => readPrometheusAnswer('errors_total[1m]', 200, { status: 'success', data: { resultType: 'matrix', result: [] } }));
    expect(matrix.code).toBe('METRICS_QUERY_INVALID');
    expect(matrix.message).toContain('gives a matrix, not numbers');
  });

  it("the server's own errors and unreadable answers are METRICS_UNAVAILABLE: they may pass", () => {
    expect(refusal(() => readPrometheusAnswer(q, 503, { status: 'error', errorType: 'timeout', error: 'query timed out' })).code).toBe('METRICS_UNAVAILABLE');
    expect(refusal(() => readPrometheusAnswer(q, 502, null)).message).toBe(`Prometheus answered the metric gate's query ${q} with HTTP 502 and no readable result`);
    expect(refusal(() => readPrometheusAnswer(q, 200, { status: 'success', data: { resultType: 'vector', result: [{ value: [1, 5] }] } })).code).toBe('METRICS_UNAVAILABLE');
  });

  it('nothing listening at the URL is METRICS_UNAVAILABLE naming the URL and the setting', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const err = await queryPrometheus(url, q).catch((e: FleetcastError) => e);
    expect((err as FleetcastError).code).toBe('METRICS_UNAVAILABLE');
    expect((err as FleetcastError).message).toMatch(new RegExp(`^Prometheus at ${url} did not answer the metric gate's query .*check FLEETCAST_PROMETHEUS_URL`));
  });
});
