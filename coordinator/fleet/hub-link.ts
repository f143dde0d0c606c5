import { FleetcastError } from '../../errors/index.ts';
import { connectNats, GoalWriter, parseNatsUrl, RegionStatusView, type GoalSigningKey, type GoalTarget, type MachinePage, type MachineQuery, type NatsConnection, type ServiceStatusSummary } from '../../goalstate/index.ts';
import type { VerifyingKeyring } from '../../trust/index.ts';
import type { Logger } from '../../logging/index.ts';
import type { GoalStore } from '../deploys/goal-store.ts';
import { PeriodicTask } from '../../lifecycle/index.ts';

export interface HubLinkOptions {
  /** The hub (FLEETCAST_NATS_URL of the coordinator). */
  url: string;
  /** FLEETCAST_NATS_CREDS: the coordinator's own NATS identity. */
  credsFile?: string | undefined;
  /** FLEETCAST_NATS_CA. */
  caFile?: string | undefined;
  regions: string[];
  /** FLEETCAST_GOAL_HISTORY. */
  goalHistory: number;
  /** FLEETCAST_NATS_REPLICAS: copies of every bucket the link creates. */
  replicas?: number;
  /** FLEETCAST_STATUS_SILENT_AFTER. */
  silentAfterMs: number;
  /** FLEETCAST_GOAL_SIGNING_KEY: without it, goal writes refuse with CONFIG_INVALID. */
  signingKey?: GoalSigningKey | undefined;
  /** What the coordinator's readers trust (FLEETCAST_GOAL_PUBLIC_KEYS and its own key). */
  keyring?: VerifyingKeyring | undefined;
  /** Pause between attempts to reach the hub, or a region's status bucket through it. @defaultValue 5_000 */
  retryMs?: number;
  logger: Logger;
}

/**
 * The coordinator's link to the NATS hub: the goal writer (deploys) and one status view per
 * region (convergence). Nothing here stops the coordinator from starting: a hub that does not
 * answer is tried again every retryMs in the background, and so is each region whose status
 * bucket cannot be reached yet (its leaf down), so a NATS outage at start heals without a
 * restart. Until then deploys answer NATS_UNAVAILABLE naming the hub and the last error.
 */
export class HubLink {
  private nc: NatsConnection | undefined;
  private writer: GoalWriter | undefined;
  private readonly views = new Map<string, RegionStatusView>();
  private lastError: string | undefined;
  private readonly task: PeriodicTask | undefined;
  private readonly server: string;
  private closed = false;
  private connected!: () => void;
  /** Resolves once the goal writer is connected (at once for a link without NATS: there is nothing to wait for). */
  readonly ready = new Promise<void>((resolve) => (this.connected = resolve));

  private constructor(private readonly options: HubLinkOptions | null) {
    this.server = options ? parseNatsUrl(options.url).redacted : '(none)';
    if (options) this.task = new PeriodicTask('connecting to the NATS hub', options.retryMs ?? 5_000, () => this.connectOnce(), options.logger);
    else this.connected();
  }

  /** Connects in the background; see the class comment. */
  static start(options: HubLinkOptions): HubLink {
    const link = new HubLink(options);
    link.task!.start();
    return link;
  }

  /** A coordinator without NATS (tests of builds and replication): deploys answer NATS_UNAVAILABLE. */
  static none(): HubLink {
    return new HubLink(null);
  }

  /** The goal writer, or NATS_UNAVAILABLE saying why there is none yet. */
  goals(): GoalStore {
    if (this.writer) return this.writer;
    throw new FleetcastError(
      'NATS_UNAVAILABLE',
      this.options
        ? `the coordinator is not connected to the NATS hub at ${this.server} yet (${this.lastError ?? 'connecting'}); it retries every ${(this.options.retryMs ?? 5_000) / 1000} s — start the hub (FLEETCAST_NATS_URL) and try again`
        : 'this coordinator runs without NATS: deploys are off',
      { server: this.server },
    );
  }

  /** Where the service's machines in `region` stand against the signed goal `target`; null while the region's reports cannot be read. */
  summary(region: string, service: string, target: GoalTarget | null): ServiceStatusSummary | null {
    return this.views.get(region)?.summary(service, target) ?? null;
  }

  /** A page of a region's machines; NOT_FOUND for a region not configured, NATS_UNAVAILABLE while its reports cannot be read. */
  machines(region: string, query: MachineQuery): MachinePage {
    const regions = this.options?.regions ?? [];
    if (!regions.includes(region)) {
      throw new FleetcastError('NOT_FOUND', `no region ${region}; the coordinator's regions are ${regions.join(', ') || 'none (it runs without NATS)'} (FLEETCAST_REGIONS)`, { region });
    }
    const view = this.views.get(region);
    if (!view) throw new FleetcastError('NATS_UNAVAILABLE', `the reports of region ${region} cannot be read yet (${this.lastError ?? 'connecting'}); check its leaf node and the hub at ${this.server}`, { region });
    return view.machines(query);
  }

  /** The hub connection, once open (the mirror check reaches every region's leaf through it). */
  connection(): NatsConnection | undefined {
    return this.writer ? this.nc : undefined;
  }

  /** Refusals the agents of each region reported since this coordinator started, by code (a counter). */
  refusalsSeen(): { region: string; code: string; count: number }[] {
    return [...this.views].flatMap(([region, view]) => [...view.refusalsSeen()].map(([code, count]) => ({ region, code, count })));
  }

  /** Machines whose latest report carries a refusal, per region, service and code (a gauge). */
  refusingMachines(): { region: string; service: string; code: string; machines: number }[] {
    return [...this.views].flatMap(([region, view]) =>
      view.services().flatMap((service) => Object.entries(view.summary(service).refused.codes).map(([code, machines]) => ({ region, service, code, machines: machines ?? 0 }))),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.task?.stop();
    for (const view of this.views.values()) await view.close();
    await this.writer?.close();
    if (this.nc && !this.nc.isClosed()) await this.nc.close();
  }

  /** One round: the writer if missing, then the status views still missing. Stops itself once all are there. */
  private async connectOnce(): Promise<void> {
    const options = this.options!;
    if (!this.writer) {
      try {
        this.nc ??= await connectNats({ url: options.url, ...(options.credsFile ? { credsFile: options.credsFile } : {}), ...(options.caFile ? { caFile: options.caFile } : {}), role: 'the NATS hub', name: 'fleetcast-coordinator', timeoutMs: 3_000, logger: options.logger });
        const writer = await GoalWriter.connect({
          url: options.url,
          connection: this.nc,
          regions: options.regions,
          goalHistory: options.goalHistory,
          ...(options.replicas ? { replicas: options.replicas } : {}),
          signingKey: options.signingKey,
          keyring: options.keyring,
          connect: { timeoutMs: 3_000 },
          logger: options.logger,
        });
        await writer.ensureBuckets().catch((err: unknown) => options.logger.error({ err }, 'goal-state buckets are not all set up; deploys to the regions whose leaves do not answer may fail until they do'));
        if (this.closed) return void (await writer.close());
        this.writer = writer;
        this.lastError = undefined;
        options.logger.info({ server: this.server }, 'connected to the NATS hub: deploys are on');
        this.connected();
      } catch (err) {
        this.lastError = (err as Error).message;
        options.logger.error({ err }, `deploys are off until the NATS hub answers (retrying every ${(options.retryMs ?? 5_000) / 1000} s); builds and replication go on`);
        return;
      }
    }
    for (const region of options.regions) {
      if (this.views.has(region) || this.closed) continue;
      try {
        const view = await RegionStatusView.connect({ region, connection: this.nc!, connect: { timeoutMs: 3_000 }, silentAfterMs: options.silentAfterMs, logger: options.logger });
        if (this.closed) await view.close();
        else this.views.set(region, view);
      } catch (err) {
        options.logger.warn({ err, region }, `cannot read the agents' reports of region ${region} yet (is its leaf up?); convergence there shows as unknown`);
      }
    }
    if (this.views.size === options.regions.length) void this.task!.stop();
  }
}
