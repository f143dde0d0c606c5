import { Counter, Gauge, type Registry } from 'prom-client';
import type { ApiContext } from '../api-context.ts';

type FleetSource = NonNullable<ApiContext['fleet']>;

/**
 * What the agents and the goal mirrors say about the trust chain, in the coordinator's metrics
 * (from memory: its status views and its mirror check; every coordinator watches every region,
 * so aggregate across coordinators with `max`, never `sum`):
 * - fleetcast_goal_refusals_total{region,code}: documents agents refused (unsigned, forged,
 *   replayed, malformed) since this coordinator started — alert on its increase;
 * - fleetcast_goal_refusing_machines{region,service,code}: machines whose goal mirror holds a
 *   document they refused now (they keep running their build);
 * - fleetcast_goal_mirror_healthy{region}, _state{region,state}, _lag{region},
 *   _last_active_seconds{region}, fleetcast_goal_mirror_repairs_total{region}.
 */
export class FleetMetrics {
  private readonly refusals: Counter<'region' | 'code'>;
  private readonly exported = new Map<string, number>();
  private readonly refusing: Gauge<'region' | 'service' | 'code'>;
  private readonly healthy: Gauge<'region'>;
  private readonly mirrorState: Gauge<'region' | 'state'>;
  private readonly lag: Gauge<'region'>;
  private readonly lastActive: Gauge<'region'>;
  private readonly repairs: Counter<'region'>;
  private readonly repairsExported = new Map<string, number>();

  constructor(
    registry: Registry,
    private readonly source: FleetSource,
  ) {
    const registers = [registry];
    this.refusals = new Counter({ name: 'fleetcast_goal_refusals_total', help: 'goal documents agents refused (GOAL_SIGNATURE_INVALID, GOAL_REPLAYED, GOAL_INVALID) since this coordinator started', labelNames: ['region', 'code'], registers });
    this.refusing = new Gauge({ name: 'fleetcast_goal_refusing_machines', help: "machines whose region's goal mirror holds a document they refused (they keep running their build)", labelNames: ['region', 'service', 'code'], registers });
    this.healthy = new Gauge({ name: 'fleetcast_goal_mirror_healthy', help: "1 when the region's goal mirror is a mirror of the hub's goal bucket, in touch and holding the hub's documents", labelNames: ['region'], registers });
    this.mirrorState = new Gauge({ name: 'fleetcast_goal_mirror_state', help: "1 for the state the region's goal mirror is in (ok, missing, not-a-mirror, diverged, stalled, unreachable)", labelNames: ['region', 'state'], registers });
    this.lag = new Gauge({ name: 'fleetcast_goal_mirror_lag', help: 'messages the goal mirror has not copied from the hub yet', labelNames: ['region'], registers });
    this.lastActive = new Gauge({ name: 'fleetcast_goal_mirror_last_active_seconds', help: 'since the goal mirror last heard from the hub', labelNames: ['region'], registers });
    this.repairs = new Counter({ name: 'fleetcast_goal_mirror_repairs_total', help: 'goal mirrors this coordinator recreated (missing, not a mirror, diverged)', labelNames: ['region'], registers });
  }

  /** Brings the metrics up to date; called at each scrape. */
  update(): void {
    for (const { region, code, count } of this.source.hub.refusalsSeen()) {
      const key = `${region}\n${code}`;
      const added = count - (this.exported.get(key) ?? 0);
      if (added > 0) this.refusals.inc({ region, code }, added);
      this.exported.set(key, count);
    }
    this.refusing.reset();
    for (const { region, service, code, machines } of this.source.hub.refusingMachines()) this.refusing.set({ region, service, code }, machines);
    this.mirrorState.reset();
    for (const mirror of this.source.mirrors.all()) {
      const { region } = mirror;
      this.healthy.set({ region }, mirror.state === 'ok' ? 1 : 0);
      this.mirrorState.set({ region, state: mirror.state }, 1);
      if (mirror.lag !== null) this.lag.set({ region }, mirror.lag);
      if (mirror.lastActiveMs !== null) this.lastActive.set({ region }, mirror.lastActiveMs / 1000);
      const added = mirror.repairs - (this.repairsExported.get(region) ?? 0);
      if (added > 0) this.repairs.inc({ region }, added);
      this.repairsExported.set(region, mirror.repairs);
    }
  }
}
