import { FleetcastError } from '../../errors/index.ts';

/**
 * What one instant query answered: the highest value of its series (a gate compares the worst
 * one with its threshold), or no data — no series, or only NaN (e.g. a rate over nothing).
 */
export type PrometheusReading = { kind: 'value'; value: number; series: number } | { kind: 'no-data' };

/** A query taking longer than this counts as Prometheus not answering. */
const queryTimeoutMs = 10_000;

/**
 * Prometheus' answer to /api/v1/query (https://prometheus.io/docs/prometheus/latest/querying/api/)
 * read as a gate needs it. A vector or a scalar gives numbers; an `error` answer or a matrix or
 * string result means the query itself is wrong (METRICS_QUERY_INVALID: waiting will not help);
 * anything else unreadable is Prometheus misbehaving (METRICS_UNAVAILABLE).
 */
export function readPrometheusAnswer(query: string, httpStatus: number, body: unknown): PrometheusReading {
  const answer = body as { status?: unknown; errorType?: unknown; error?: unknown; data?: { resultType?: unknown; result?: unknown } } | null;
  if (answer?.status === 'error') {
    const why = `${String(answer.errorType ?? 'error')}: ${String(answer.error ?? 'no reason given')}`;
    // bad_data (400) and execution (422) are the query's fault; timeouts and 5xx are the server's.
    if (httpStatus === 400 || httpStatus === 422 || answer.errorType === 'bad_data') {
      throw new FleetcastError('METRICS_QUERY_INVALID', `Prometheus refused the metric gate's query ${query} (${why}); fix the service's gate query`, { query, httpStatus });
    }
    throw new FleetcastError('METRICS_UNAVAILABLE', `Prometheus could not run the metric gate's query ${query} (HTTP ${httpStatus}, ${why})`, { query, httpStatus });
  }
  if (answer?.status !== 'success' || typeof answer.data !== 'object' || answer.data === null) {
    throw new FleetcastError('METRICS_UNAVAILABLE', `Prometheus answered the metric gate's query ${query} with HTTP ${httpStatus} and no readable result`, { query, httpStatus });
  }
  const { resultType, result } = answer.data;
  if (resultType === 'scalar') return reading([(result as unknown[] | undefined)?.[1]], query);
  if (resultType === 'vector' && Array.isArray(result)) return reading(result.map((series) => (series as { value?: unknown[] }).value?.[1]), query);
  throw new FleetcastError('METRICS_QUERY_INVALID', `the metric gate's query ${query} gives a ${String(resultType)}, not numbers: write an instant vector or scalar query (no range selector such as [5m] at its end, and no string)`, { query, resultType });
}

function reading(samples: unknown[], query: string): PrometheusReading {
  const values = samples.map((sample) => {
    // Prometheus sends sample values as strings ("1.5", "NaN", "+Inf").
    if (typeof sample !== 'string') throw new FleetcastError('METRICS_UNAVAILABLE', `Prometheus answered the metric gate's query ${query} with a malformed sample`, { query });
    return sampleValue(sample);
  });
  const numbers = values.filter((value) => !Number.isNaN(value));
  return numbers.length === 0 ? { kind: 'no-data' } : { kind: 'value', value: Math.max(...numbers), series: numbers.length };
}

/** Prometheus writes infinities as Go does ("+Inf", "-Inf"), which Number() reads as NaN. */
function sampleValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/** Runs one instant query against `baseUrl` (FLEETCAST_PROMETHEUS_URL). */
export async function queryPrometheus(baseUrl: string, query: string, signal?: AbortSignal): Promise<PrometheusReading> {
  const url = new URL('api/v1/query', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query }).toString(),
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(queryTimeoutMs)]) : AbortSignal.timeout(queryTimeoutMs),
    });
  } catch (err) {
    throw new FleetcastError('METRICS_UNAVAILABLE', `Prometheus at ${url.origin} did not answer the metric gate's query (${(err as Error).message}); check FLEETCAST_PROMETHEUS_URL and that Prometheus runs`, { query, url: url.origin }, { cause: err });
  }
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // A proxy's HTML error page, say: judged as no readable result below.
  }
  return readPrometheusAnswer(query, response.status, body);
}
