import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { silentLogger, type Logger } from '../logging/index.ts';
import { ConnectionState } from './connection-state.ts';
import { statusBucket, statusKey, validateMachine, validateRegion } from './names.ts';
import { connectNats, parseNatsUrl, type NatsConnectOptions } from './nats-connect.ts';
import { natsFailure } from './nats-failure.ts';
import { openBucket } from './open-bucket.ts';
import { encodeStatus, maxCachedReported, type AgentState, type Refusal, type StatusReport } from './status-document.ts';

export interface StatusReporterOptions {
  /** The region's leaf (FLEETCAST_NATS_URL of an agent). */
  url: string;
  region: string;
  machine: string;
  /** Use this connection (e.g. the RegionGoalView's); close() then leaves it open. */
  connection?: NatsConnection;
  connect?: Omit<NatsConnectOptions, 'url' | 'role' | 'logger'>;
  /**
   * An unchanged report is sent again this often, so the coordinator can tell the machine is
   * alive (FLEETCAST_STATUS_INTERVAL). At 100,000 machines and 30 s: ~3,300 writes/s per leaf
   * per service a machine runs. @defaultValue 30_000
   */
  intervalMs?: number;
  /** Progress of the same state and build is sent at most this often. @defaultValue 1_000 */
  progressIntervalMs?: number;
  /** @defaultValue a silent logger */
  logger?: Logger;
}

/** What an agent says about one service; the reporter adds machine, service and time. */
export interface StatusUpdate {
  build: string | null;
  state: AgentState;
  bytes?: number;
  total?: number;
  peers?: number;
  error?: string | null;
  /** Where the build's output is on this machine (status-document.ts). */
  log?: string;
  /** The digest of what runs (state `running`). */
  digest?: string | null;
  /** The sequence of the signed goal the state is about. */
  seq?: number | null;
  /** The last document refused for the service, while no accepted one came since. */
  refusal?: Refusal | null;
  /** Documents refused for the service since the agent started. */
  refusals?: number;
  /** The builds of the service verified in this machine's cache, most recently used first. */
  cached?: string[];
}

interface Slot {
  report: StatusReport;
  sentState: string | undefined;
  sentAtMs: number;
  /** A trailing send of throttled progress. */
  pending: Promise<boolean> | undefined;
}

/**
 * An agent's reports to its region: one key per service (`<service>.<machine>` in
 * `status-<region>` on the leaf). State changes go out at once, progress at most every
 * progressIntervalMs, and everything again every intervalMs. A report that cannot be written
 * (leaf down) is kept and goes out with the next round: reporting never blocks or fails the
 * agent's work.
 */
export class StatusReporter {
  private readonly slots = new Map<string, Slot>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private failing = false;
  private readonly connection: ConnectionState;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly ownsConnection: boolean,
    private readonly kv: KV,
    readonly region: string,
    readonly machine: string,
    private readonly server: string,
    private readonly options: StatusReporterOptions & { logger: Logger },
  ) {
    const interval = options.intervalMs ?? 30_000;
    this.timer = setInterval(() => void this.resendAll(), interval);
    this.timer.unref();
    // Reports kept while the leaf was away go out as soon as it is back, not a round later.
    this.connection = new ConnectionState(nc);
    this.connection.onReconnect(() => void this.resendAll());
  }

  static async connect(options: StatusReporterOptions): Promise<StatusReporter> {
    const region = validateRegion(options.region);
    const machine = validateMachine(options.machine);
    const logger = options.logger ?? silentLogger();
    const role = `the NATS leaf of region ${region}`;
    const server = `${role} at ${parseNatsUrl(options.url).redacted}`;
    const nc = options.connection ?? (await connectNats({ ...options.connect, url: options.url, role, name: options.connect?.name ?? `fleetcast-agent-${machine}`, logger }));
    try {
      const kv = await openBucket(nc, statusBucket(region), { timeoutMs: options.connect?.timeoutMs ?? 5_000 });
      return new StatusReporter(nc, !options.connection, kv, region, machine, server, { ...options, logger });
    } catch (err) {
      if (!options.connection) await nc.close();
      throw err;
    }
  }

  /**
   * Records the state of a service on this machine and sends it (or schedules it, if it is
   * progress arriving faster than progressIntervalMs). Resolves true once stored, false if
   * the leaf could not take it (it is sent again with the next round).
   */
  report(service: string, update: StatusUpdate): Promise<boolean> {
    const report: StatusReport = {
      v: 1,
      machine: this.machine,
      service,
      build: update.build,
      state: update.state,
      bytes: update.bytes ?? 0,
      total: update.total ?? 0,
      peers: update.peers ?? 0,
      error: update.error ?? null,
      ...(update.log ? { log: update.log } : {}),
      at: new Date().toISOString(),
      digest: update.digest ?? null,
      seq: update.seq ?? null,
      refusal: update.refusal ?? null,
      refusals: update.refusals ?? 0,
      cached: (update.cached ?? []).slice(0, maxCachedReported),
    };
    encodeStatus(report); // a bad report is the caller's bug: throw now, not in a timer
    statusKey(service, this.machine);
    let slot = this.slots.get(service);
    if (!slot) this.slots.set(service, (slot = { report, sentState: undefined, sentAtMs: 0, pending: undefined }));
    slot.report = report;
    const changed = slot.sentState !== stateOf(report);
    const wait = slot.sentAtMs + (this.options.progressIntervalMs ?? 1_000) - Date.now();
    if (changed || wait <= 0) return this.send(service, slot);
    const current = slot;
    current.pending ??= new Promise<boolean>((resolve) =>
      setTimeout(() => {
        current.pending = undefined;
        resolve(this.send(service, current));
      }, wait),
    );
    return current.pending;
  }

  /** Removes the service's report (the service was uninstalled from this machine). */
  async remove(service: string): Promise<void> {
    this.slots.delete(service);
    try {
      await this.kv.delete(statusKey(service, this.machine));
    } catch (err) {
      throw natsFailure(err, { action: `removing the status of ${service} on ${this.machine}`, server: this.server, startHint: 'Is the leaf running?' });
    }
  }

  /** Stops reporting (the reports stay: the coordinator sees the machine go silent). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.connection.stop();
    await Promise.all([...this.slots.values()].map((slot) => slot.pending));
    if (this.ownsConnection && !this.nc.isClosed()) await this.nc.close();
  }

  private async resendAll(): Promise<void> {
    for (const [service, slot] of this.slots) {
      slot.report = { ...slot.report, at: new Date().toISOString() };
      await this.send(service, slot);
    }
  }

  private async send(service: string, slot: Slot): Promise<boolean> {
    // Closed, or the service was removed since a throttled send was scheduled: nothing to say.
    if (this.closed || this.slots.get(service) !== slot) return false;
    const report = slot.report;
    if (!this.connection.connected) {
      // Kept: sent on reconnect. Sent now, it would wait out the whole timeout (see ConnectionState).
      slot.sentState = undefined;
      return false;
    }
    // Marked before the write: reports arriving while it is in flight are throttled against it.
    slot.sentState = stateOf(report);
    slot.sentAtMs = Date.now();
    try {
      await this.kv.put(statusKey(service, this.machine), encodeStatus(report));
      if (this.failing) this.options.logger.info({ region: this.region, machine: this.machine }, 'status reports reach the leaf again');
      this.failing = false;
      return true;
    } catch (err) {
      slot.sentState = undefined; // the next report goes out at once
      // One warning per outage, not one per report.
      if (!this.failing) {
        const error = natsFailure(err, { action: `reporting ${service} on ${this.machine}`, server: this.server, startHint: 'Kept; sent again with the next round.' });
        this.options.logger.warn({ err: error, region: this.region, machine: this.machine, service }, error.message);
      }
      this.failing = true;
      return false;
    }
  }
}

/** What makes a report go out at once rather than throttled like progress: a new state, build, goal, refusal or cache content. */
function stateOf(report: StatusReport): string {
  return `${report.state}/${report.build}/${report.seq}/${report.refusals}/${report.refusal?.code ?? ''}/${report.cached.join(',')}`;
}
