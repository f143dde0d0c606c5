import { humanDuration } from '../../config/index.ts';
import { isFleetcastError } from '../../errors/index.ts';
import type { Logger } from '../../logging/index.ts';
import { renderGateQuery, type ServiceRegistry } from '../../queue/services/index.ts';
import type { Deployment } from './deployment.ts';
import { queryPrometheus, type PrometheusReading } from './prometheus-query.ts';
import type { Wave, WaveGateRecord } from './waves.ts';

export interface MetricGateOptions {
  /** FLEETCAST_PROMETHEUS_URL. */
  url: string;
  services: Pick<ServiceRegistry, 'get'>;
  /** Time between two queries of a holding gate (FLEETCAST_PROMETHEUS_EVERY). @defaultValue 10 s */
  everyMs?: number;
  /** A gate without a value this long fails its wave (FLEETCAST_PROMETHEUS_GRACE). @defaultValue 2 min */
  graceMs?: number;
  logger: Logger;
  /** How a query is run; tests of the hold and grace logic pass their own. @defaultValue queryPrometheus */
  query?: (url: string, query: string) => Promise<PrometheusReading>;
}

/**
 * What the gate says about a wave whose machines converged. `none`: no gate applies, the agents'
 * verdict stands. `holding`: not yet (record `gate` when `changed`). `passed`: the wave converged.
 * `failed`: the wave fails with `reason`.
 */
export type GateStep =
  | { kind: 'none' }
  | { kind: 'holding'; gate: WaveGateRecord; changed: boolean }
  | { kind: 'passed'; gate: WaveGateRecord }
  | { kind: 'failed'; gate: WaveGateRecord; reason: string };

/** Per holding wave, what this process knows beyond the record: when to ask next, when a value last came. */
interface LiveGate {
  nextQueryAt: number;
  lastValueAt: number;
  touchedAt: number;
}

/** A holding gate not looked at this long belongs to a rollout that ended elsewhere: forgotten. */
const forgetAfterMs = 3_600_000;

/**
 * The metric gate of a wave (README, Metric gates). Once a deploy's wave has converged on the
 * agents' health, the service's PromQL query — `{{region}}`, `{{build}}`, `{{service}}` filled
 * in — is asked of Prometheus for each region of the wave every FLEETCAST_PROMETHEUS_EVERY:
 * one value above `max` fails the wave at once; values at or below it for `holdMs` pass it.
 * It fails closed: a query Prometheus refuses fails the wave at once, and no value (Prometheus
 * unreachable or erring, or no series) for FLEETCAST_PROMETHEUS_GRACE fails it too — a gate that
 * cannot see is not a gate that passed. Rollbacks are never gated: they must not wait on the
 * metrics of the build they undo. The rule is copied into the wave's record when the hold
 * begins, so the hold survives a coordinator restart and a changed rule applies to later waves.
 */
export class MetricGate {
  private readonly live = new Map<string, LiveGate>();
  private readonly everyMs: number;
  private readonly graceMs: number;
  private readonly query: (url: string, query: string) => Promise<PrometheusReading>;

  constructor(private readonly options: MetricGateOptions) {
    this.everyMs = options.everyMs ?? 10_000;
    this.graceMs = options.graceMs ?? 120_000;
    this.query = options.query ?? queryPrometheus;
  }

  async check(deployment: Deployment, wave: Wave, index: number, now: Date): Promise<GateStep> {
    if (deployment.kind !== 'deploy') return { kind: 'none' };
    let gate = wave.gate;
    let changed = false;
    if (!gate) {
      const rule = (await this.options.services.get(deployment.service)).metricGate;
      if (!rule) return { kind: 'none' };
      gate = { ...rule, since: now.toISOString(), status: 'HOLDING', values: {}, checkedAt: null };
      changed = true;
    }
    if (gate.status === 'PASSED') return { kind: 'passed', gate };
    this.forgetStale(now.getTime());
    const key = `${deployment.id}/${index}`;
    const since = Date.parse(gate.since);
    const live = this.live.get(key) ?? { nextQueryAt: 0, lastValueAt: since, touchedAt: 0 };
    live.touchedAt = now.getTime();
    this.live.set(key, live);
    const held = now.getTime() - since >= gate.holdMs;
    if (now.getTime() < live.nextQueryAt && !held) return { kind: 'holding', gate, changed };
    live.nextQueryAt = now.getTime() + this.everyMs;

    const step = await this.read(deployment, wave, gate, live, now, held);
    if (step.kind !== 'holding') this.live.delete(key);
    if (step.kind === 'failed') this.options.logger.warn({ deployment: deployment.id, service: deployment.service, build: deployment.build, regions: wave.regions }, step.reason);
    return step;
  }

  private async read(deployment: Deployment, wave: Wave, gate: WaveGateRecord, live: LiveGate, now: Date, held: boolean): Promise<GateStep> {
    const values: Record<string, number | null> = {};
    const missing: string[] = [];
    for (const region of wave.regions) {
      const query = renderGateQuery(gate.query, { region, build: deployment.build, service: deployment.service });
      let reading: PrometheusReading;
      try {
        reading = await this.query(this.options.url, query);
      } catch (err) {
        values[region] = null;
        if (isFleetcastError(err, 'METRICS_QUERY_INVALID')) return this.failed(gate, values, now, `metric gate: ${err.message}`);
        if (!isFleetcastError(err, 'METRICS_UNAVAILABLE')) throw err;
        missing.push(err.message);
        continue;
      }
      if (reading.kind === 'no-data') {
        values[region] = null;
        missing.push(`no data for ${query}`);
        continue;
      }
      values[region] = reading.value;
      if (reading.value > gate.max) {
        return this.failed(gate, values, now, `metric gate: ${query} = ${reading.value} in ${region}, above ${gate.max} (within ${humanDuration(now.getTime() - Date.parse(gate.since))} of the wave converging)`);
      }
    }
    const checked = { ...gate, values, checkedAt: now.toISOString() };
    if (missing.length === 0) {
      live.lastValueAt = now.getTime();
      const { reason: _, ...clean } = checked;
      return held ? { kind: 'passed', gate: { ...clean, status: 'PASSED' } } : { kind: 'holding', gate: clean, changed: true };
    }
    const without = now.getTime() - live.lastValueAt;
    if (without > this.graceMs) {
      return this.failed(gate, values, now, `metric gate: no value for ${humanDuration(without)}, more than FLEETCAST_PROMETHEUS_GRACE (${humanDuration(this.graceMs)}), so the gate fails closed: ${missing[0]}`);
    }
    // Held long enough but the last reading is missing: it passes only on a value, within the grace.
    return { kind: 'holding', gate: { ...checked, reason: missing[0]! }, changed: true };
  }

  private failed(gate: WaveGateRecord, values: Record<string, number | null>, now: Date, reason: string): GateStep {
    return { kind: 'failed', gate: { ...gate, values, checkedAt: now.toISOString(), status: 'FAILED', reason }, reason };
  }

  private forgetStale(now: number): void {
    for (const [key, live] of this.live) if (now - live.touchedAt > forgetAfterMs) this.live.delete(key);
  }
}
