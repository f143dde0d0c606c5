import type { KvWatchEntry, RoKV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { FleetcastError, isFleetcastError } from '../errors/index.ts';
import { silentLogger, type Logger } from '../logging/index.ts';
import { bucketDefaults } from './ensure-buckets.ts';
import { splitKey, statusBucket, validateRegion, validateService } from './names.ts';
import { connectNats, parseNatsUrl, type NatsConnectOptions } from './nats-connect.ts';
import { openBucket } from './open-bucket.ts';
import { ResilientWatch } from './resilient-watch.ts';
import { machinePage, type MachinePage, type MachineQuery } from './machine-page.ts';
import { decodeStatus, type StatusReport } from './status-document.ts';
import { summarizeService, type GoalTarget, type ServiceStatusSummary, type StatusEntry } from './status-summary.ts';

export interface RegionStatusViewOptions {
  region: string;
  /**
   * The hub (the coordinator's FLEETCAST_NATS_URL: the region's bucket is reached through the
   * leaf link as $JS.<region>.API) or the region's leaf itself. Either this or `connection`.
   */
  url?: string;
  /** Use this connection (e.g. the GoalWriter's hub connection); close() then leaves it open. */
  connection?: NatsConnection;
  connect?: Omit<NatsConnectOptions, 'url' | 'role' | 'logger'>;
  /** A machine without a report for this long counts as silent (FLEETCAST_STATUS_SILENT_AFTER). @defaultValue 90_000 */
  silentAfterMs?: number;
  /**
   * Reports older than this are forgotten: the leaf drops them after the bucket's max age
   * without telling watchers. @defaultValue 24 h (the bucket's default max age)
   */
  maxAgeMs?: number;
  /** How often to check that the watch's consumer on the leaf still exists (see ResilientWatch). @defaultValue 1_000 */
  checkEveryMs?: number;
  /** @defaultValue a silent logger */
  logger?: Logger;
}

interface HeldEntry extends StatusEntry {
  /** The watch session that last saw the key; keys a new session does not see are gone. */
  session: number;
}

/**
 * The coordinator's view of one region's agent reports. It loads the whole status bucket once
 * (a watch delivering the last value of every key) and then applies each change to an
 * in-memory map, so a summary is a pass over one service's machines in memory — never a
 * listing of 100,000 keys per question.
 */
export class RegionStatusView {
  /** Resolves when the reports that existed at start are loaded. */
  readonly ready: Promise<void>;
  readonly region: string;
  private readonly byService = new Map<string, Map<string, HeldEntry>>();
  private readonly watch: ResilientWatch;
  private markReady!: () => void;
  private invalid = 0;
  private count = 0;
  private loaded = false;
  /** Refusals agents reported since this view started (increases of their counters), by code. */
  private readonly refusalEvents = new Map<string, number>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly ownsConnection: boolean,
    kv: RoKV,
    server: string,
    private readonly options: RegionStatusViewOptions & { logger: Logger },
  ) {
    this.region = options.region;
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    this.watch = new ResilientWatch({
      nc,
      kv,
      what: `status watch of region ${this.region}`,
      server: `${server}, JetStream domain "${this.region}"`,
      logger: options.logger,
      onEntry: (entry, session) => this.apply(entry, session),
      onCaughtUp: (session) => this.caughtUp(session),
      // Through the hub, a restarted leaf does not drop this connection: look for the lost consumer.
      checkConsumerEveryMs: options.checkEveryMs ?? 1_000,
    });
    this.watch.start();
  }

  static async connect(options: RegionStatusViewOptions): Promise<RegionStatusView> {
    const region = validateRegion(options.region);
    const logger = options.logger ?? silentLogger();
    if (!options.connection && !options.url) throw new FleetcastError('INVALID_INPUT', 'RegionStatusView needs the NATS url or a connection', {});
    const server = options.url ? `the NATS server at ${parseNatsUrl(options.url).redacted}` : 'the given NATS connection';
    const nc = options.connection ?? (await connectNats({ ...options.connect, url: options.url!, role: 'the NATS hub', name: options.connect?.name ?? `fleetcast-status-${region}`, logger }));
    // Through the region's JetStream domain: the same call works on the hub (over the leaf link) and on the leaf.
    const timeout = options.connect?.timeoutMs ?? 5_000;
    try {
      const kv = await openBucket(nc, statusBucket(region), { domain: region, timeoutMs: timeout });
      return new RegionStatusView(nc, !options.connection, kv, server, { ...options, logger });
    } catch (err) {
      if (!options.connection) await nc.close();
      throw err;
    }
  }

  /** Reports held, all services. */
  get size(): number {
    return this.count;
  }

  /** Malformed reports seen (not counted in summaries). */
  get invalidReports(): number {
    return this.invalid;
  }

  /**
   * Documents the region's agents refused (by code) since this view started, as their reports'
   * counters went up: a counter for alerts (`increase()`), whichever machines refused.
   */
  refusalsSeen(): Map<string, number> {
    return new Map(this.refusalEvents);
  }

  services(): string[] {
    return [...this.byService.keys()].sort();
  }

  report(service: string, machine: string): StatusReport | undefined {
    return this.byService.get(service)?.get(machine)?.report;
  }

  /** Where the service's machines stand against the signed goal `goal` (null: any build), now. */
  summary(service: string, goal: GoalTarget | null = null, nowMs = Date.now()): ServiceStatusSummary {
    validateService(service);
    const machines = this.byService.get(service);
    const maxAge = this.options.maxAgeMs ?? bucketDefaults.statusMaxAgeMs;
    const entries: HeldEntry[] = [];
    if (machines) {
      for (const [machine, entry] of machines) {
        if (nowMs - entry.storedAtMs > maxAge) {
          this.remove(service, machine);
          continue;
        }
        entries.push(entry);
      }
    }
    return summarizeService(this.region, service, entries, {
      goal,
      nowMs,
      silentAfterMs: this.options.silentAfterMs ?? 90_000,
    });
  }

  /** A page of the region's machines, filtered (failed, silent, on a build), from the reports held in memory. */
  machines(query: MachineQuery, nowMs = Date.now()): MachinePage {
    return machinePage(this.byService, query, this.options.silentAfterMs ?? 90_000, nowMs);
  }

  async close(): Promise<void> {
    await this.watch.stop();
    if (this.ownsConnection && !this.nc.isClosed()) await this.nc.close();
  }

  private apply(entry: KvWatchEntry, session: number): void {
    const parts = splitKey(entry.key);
    if (!parts) return;
    const [service, machine] = parts;
    if (entry.operation !== 'PUT') {
      this.remove(service, machine);
      return;
    }
    let report: StatusReport;
    try {
      report = decodeStatus(entry.value, entry.key);
    } catch (err) {
      if (!isFleetcastError(err, 'GOAL_INVALID')) throw err;
      this.invalid++;
      // One line per malformed report would be 100,000 lines after a bad agent release.
      if (this.invalid <= 10 || this.invalid % 1000 === 0) this.options.logger.warn({ err, region: this.region, invalid: this.invalid }, err.message);
      this.remove(service, machine);
      return;
    }
    let machines = this.byService.get(service);
    if (!machines) this.byService.set(service, (machines = new Map()));
    this.countRefusals(machines.get(machine)?.report, report);
    if (!machines.has(machine)) this.count++;
    machines.set(machine, { report, storedAtMs: entry.created.getTime(), session });
  }

  /**
   * Adds what a machine refused since its previous report: the increase of its counter (all of
   * it after an agent restart, which starts the counter again). Reports loaded when the view
   * starts count nothing: the counter starts at 0 with the view.
   */
  private countRefusals(before: StatusReport | undefined, report: StatusReport): void {
    if (!this.loaded) return;
    const added = before === undefined || report.refusals < before.refusals ? report.refusals : report.refusals - before.refusals;
    if (added <= 0) return;
    const code = report.refusal?.code ?? 'unknown';
    this.refusalEvents.set(code, (this.refusalEvents.get(code) ?? 0) + added);
  }

  private caughtUp(session: number): void {
    // Keys a fresh session did not deliver were deleted or aged out while nobody watched.
    for (const [service, machines] of this.byService) {
      for (const [machine, entry] of machines) if (entry.session < session) this.remove(service, machine);
    }
    this.loaded = true;
    this.markReady();
  }

  private remove(service: string, machine: string): void {
    const machines = this.byService.get(service);
    if (machines?.delete(machine)) {
      this.count--;
      if (machines.size === 0) this.byService.delete(service);
    }
  }
}
