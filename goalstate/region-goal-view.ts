import type { KvEntry, RoKV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { FleetcastError } from '../errors/index.ts';
import { silentLogger, type Logger } from '../logging/index.ts';
import type { VerifyingKeyring } from '../trust/index.ts';
import { decodeGoal, type GoalRevision } from './goal-document.ts';
import { GoalWatch, type GoalListener, type GoalWatchOptions } from './goal-watch.ts';
import { goalBucket, goalKey, goalMirrorBucket, kvStream, validateRegion, validateService } from './names.ts';
import { connectNats, parseNatsUrl, type NatsConnectOptions } from './nats-connect.ts';
import { natsFailure } from './nats-failure.ts';
import { openBucket, streamManager } from './open-bucket.ts';

export interface RegionGoalViewOptions {
  /** The region's leaf, `nats://[user:password@]host:port` (FLEETCAST_NATS_URL of an agent). */
  url: string;
  region: string;
  /**
   * The coordinators' goal-signing public keys (FLEETCAST_GOAL_PUBLIC_KEYS): only documents one
   * of them signed are read or delivered. Required: there is no unsigned mode.
   */
  keyring: VerifyingKeyring;
  /** Use this connection instead of opening one; close() then leaves it open. */
  connection?: NatsConnection;
  /** Connection settings other than the URL. */
  connect?: Omit<NatsConnectOptions, 'url' | 'role' | 'logger'>;
  /** @defaultValue a silent logger */
  logger?: Logger;
}

/** How far the region's mirror is behind the hub, as its leaf sees it. */
export interface MirrorHealth {
  /** Messages the leaf knows it has not copied yet. */
  lag: number;
  /** Since the mirror last heard from the hub; null when it never has since the leaf started. */
  lastActiveMs: number | null;
  /** The newest revision the mirror holds. */
  lastRevision: number;
}

/**
 * An agent's read-only view of its region's goals: it connects to the region's leaf and opens
 * only `goal-<region>`, the leaf's mirror of the hub's `goal` bucket — so it keeps reading the
 * last goal when the hub or the link is down, and the agent credentials need no hub access.
 */
export class RegionGoalView {
  private readonly watches = new Set<GoalWatch>();

  private constructor(
    readonly region: string,
    private readonly nc: NatsConnection,
    private readonly ownsConnection: boolean,
    /** Read-only by type as well: nothing here may write, least of all to the mirror (see connect()). */
    private readonly kv: RoKV,
    private readonly server: string,
    private readonly logger: Logger,
    private readonly timeoutMs: number,
    private readonly keyring: VerifyingKeyring,
  ) {}

  static async connect(options: RegionGoalViewOptions): Promise<RegionGoalView> {
    const region = validateRegion(options.region);
    const logger = options.logger ?? silentLogger();
    const role = `the NATS leaf of region ${region}`;
    const server = `${role} at ${parseNatsUrl(options.url).redacted}`;
    const nc =
      options.connection ??
      (await connectNats({
        ...options.connect,
        url: options.url,
        role,
        name: options.connect?.name ?? `fleetcast-agent-${region}`,
        startHint: `Start the region's leaf node (for development: npx tsx ops/nats/start-cluster.ts --regions ${region}).`,
        logger,
      }));
    try {
      const timeout = options.connect?.timeoutMs ?? 5_000;
      await checkDomain(nc, region, server, logger, timeout);
      // Trap: a mirror keeps the source's subjects ($KV.goal.<key>), so it is read as bucket
      // "goal" bound to the mirror's stream (KvOptions.streamName), with direct get from that
      // stream. Bound (Kvm.open), not created: opening must never create a stream on the leaf
      // that would capture $KV.goal writes there.
      const kv = await openBucket(nc, goalBucket, { timeoutMs: timeout }, { streamName: kvStream(goalMirrorBucket(region)), allow_direct: true });
      return new RegionGoalView(region, nc, !options.connection, kv, server, logger, timeout, options.keyring);
    } catch (err) {
      if (!options.connection) await nc.close();
      throw err;
    }
  }

  /** The region's current goal for a service, or null. A malformed value throws GOAL_INVALID, one not signed by a trusted key GOAL_SIGNATURE_INVALID. */
  async get(service: string): Promise<GoalRevision | null> {
    const key = goalKey(validateService(service), this.region);
    let entry: KvEntry | null;
    try {
      entry = await this.kv.get(key);
    } catch (err) {
      throw natsFailure(err, { action: `reading goal ${key} from ${goalMirrorBucket(this.region)}`, server: this.server, startHint: 'Is the leaf running? Agents keep their last goal meanwhile.' });
    }
    if (!entry || entry.operation !== 'PUT') return null;
    return { goal: decodeGoal(entry.value, key, entry.revision, { keyring: this.keyring }), revision: entry.revision, storedAt: entry.created };
  }

  /**
   * Watches the goals of `services` (all services when undefined) in this region; see GoalWatch
   * for the delivery guarantees. It survives the leaf restarting and the hub going away.
   */
  watch(services: string[] | undefined, onGoal: GoalListener, options: GoalWatchOptions = {}): GoalWatch {
    services?.forEach(validateService);
    if (services?.length === 0) throw new FleetcastError('INVALID_INPUT', 'watch at least one service, or pass undefined to watch all', {});
    const watch: GoalWatch = new GoalWatch(this.nc, this.kv, this.region, services, onGoal, {
      ...options,
      server: this.server,
      logger: this.logger,
      keyring: this.keyring,
      stream: kvStream(goalMirrorBucket(this.region)),
      onStopped: () => this.watches.delete(watch),
    });
    this.watches.add(watch);
    return watch;
  }

  /** How current the region's mirror is (agents report it; a long lastActiveMs means the hub link is down). */
  async mirrorHealth(): Promise<MirrorHealth> {
    try {
      const info = await (await streamManager(this.nc, { timeoutMs: this.timeoutMs })).streams.info(kvStream(goalMirrorBucket(this.region)));
      const active = info.mirror?.active ?? -1;
      return { lag: info.mirror?.lag ?? 0, lastActiveMs: active < 0 ? null : Math.round(active / 1e6), lastRevision: info.state.last_seq };
    } catch (err) {
      throw natsFailure(err, { action: `reading the state of ${goalMirrorBucket(this.region)}`, server: this.server, startHint: 'Is the leaf running?' });
    }
  }

  /** Stops every watch, then closes the connection unless it was given. */
  async close(): Promise<void> {
    await Promise.all([...this.watches].map((watch) => watch.stop()));
    this.watches.clear();
    if (this.ownsConnection && !this.nc.isClosed()) await this.nc.close();
  }
}

/**
 * An agent pointed at the hub or at another region's leaf would watch nothing, or the wrong
 * region: refuse with the domain found. When JetStream does not answer yet (a leaf starting),
 * go on — the watch retries.
 */
async function checkDomain(nc: NatsConnection, region: string, server: string, logger: Logger, timeout: number): Promise<void> {
  let domain: string | undefined;
  try {
    domain = (await (await streamManager(nc, { timeoutMs: timeout })).getAccountInfo()).domain;
  } catch (err) {
    logger.warn({ err, region }, `could not check the JetStream domain of ${server}; watching anyway`);
    return;
  }
  if (domain !== region) {
    throw new FleetcastError(
      'CONFIG_INVALID',
      `${server} is JetStream domain ${domain === undefined ? '(none)' : `"${domain}"`}, not "${region}": point this region's FLEETCAST_NATS_URL at the region's leaf node`,
      { region, domain: domain ?? null },
    );
  }
}
