import type { KV, KvEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { FleetcastError, isFleetcastError } from '../errors/index.ts';
import { silentLogger, type Logger } from '../logging/index.ts';
import { ConnectionState } from './connection-state.ts';
import { ensureFleetBuckets, type FleetBucketsOptions } from './ensure-buckets.ts';
import { releaseKvConsumer } from './kv-consumer.ts';
import { decodeGoal, encodeGoal, type Goal, type GoalRevision } from './goal-document.ts';
import { goalBucket, goalKey, hubDomain, prefetchKey, validateRegion } from './names.ts';
import { connectNats, defaultStartHint, parseNatsUrl, type NatsConnectOptions } from './nats-connect.ts';
import { jetStreamErrorCode, natsFailure, wrongLastSequence } from './nats-failure.ts';
import { openBucket, streamManager } from './open-bucket.ts';

export interface GoalWriterOptions extends Omit<FleetBucketsOptions, 'regions'> {
  /** The NATS hub, `nats://[user:password@]host:port` (FLEETCAST_NATS_URL of the coordinator). */
  url: string;
  /** Regions whose mirror and status bucket ensureBuckets() creates (FLEETCAST_REGIONS). */
  regions: string[];
  /** Use this connection instead of opening one; close() then leaves it open. */
  connection?: NatsConnection;
  /** Connection settings other than the URL. */
  connect?: Omit<NatsConnectOptions, 'url' | 'role' | 'logger'>;
  /** @defaultValue a silent logger */
  logger?: Logger;
}

/** What put() must find at the key: the revision read before, or null for "no goal yet". */
export interface PutGoalOptions {
  expectedRevision: number | null;
}

const hubRole = 'the NATS hub';

/**
 * The coordinator's handle on the global `goal` bucket. Every write is a compare-and-set on the
 * key's revision, so two deploys (or a deploy and a rollback) of one service and region cannot
 * interleave: the loser gets GOAL_CONFLICT saying what the key holds now.
 */
export class GoalWriter {
  private readonly connection: ConnectionState;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly ownsConnection: boolean,
    private readonly kv: KV,
    private readonly options: GoalWriterOptions,
    private readonly server: string,
    private readonly logger: Logger,
    private readonly timeoutMs: number,
  ) {
    this.connection = new ConnectionState(nc);
  }

  /** Connects to the hub (fails with NATS_UNAVAILABLE naming the URL when it does not answer). */
  static async connect(options: GoalWriterOptions): Promise<GoalWriter> {
    options.regions.forEach(validateRegion);
    const logger = options.logger ?? silentLogger();
    const server = `${hubRole} at ${parseNatsUrl(options.url).redacted}`;
    const nc = options.connection ?? (await connectNats({ ...options.connect, url: options.url, role: hubRole, name: options.connect?.name ?? 'fleetcast-coordinator', logger }));
    try {
      const timeout = options.connect?.timeoutMs ?? 5_000;
      await checkIsHub(nc, server, timeout);
      // Bound, not created: ensureBuckets() creates, with the history the options ask for. The
      // plain API prefix: checkIsHub() made sure this server's own domain is the hub's.
      const kv = await openBucket(nc, goalBucket, { timeoutMs: timeout });
      return new GoalWriter(nc, !options.connection, kv, options, server, logger, timeout);
    } catch (err) {
      if (!options.connection) await nc.close();
      throw err;
    }
  }

  /** Creates `goal` on the hub and each region's mirror and status bucket; safe to call at every start. */
  async ensureBuckets(): Promise<void> {
    await ensureFleetBuckets(this.nc, this.options, { server: this.server, logger: this.logger, timeoutMs: this.timeoutMs });
  }

  /**
   * Writes the goal of `goal.service` in `goal.region` if the key is still at
   * `expectedRevision` (null: the key has no goal). Returns the new revision.
   */
  async put(goal: Goal, options: PutGoalOptions): Promise<number> {
    const key = goalKey(goal.service, goal.region);
    const value = this.encodeWritable(goal, key, 'goal');
    try {
      const revision = options.expectedRevision === null ? await this.kv.create(key, value) : await this.kv.update(key, value, options.expectedRevision);
      this.logger.info({ service: goal.service, region: goal.region, build: goal.build, deployment: goal.deployment, kind: goal.kind, revision }, 'goal written');
      return revision;
    } catch (err) {
      if (jetStreamErrorCode(err) === wrongLastSequence) throw await this.conflict(goal, key, options.expectedRevision);
      throw natsFailure(err, {
        action: `writing goal ${key} (${goal.build}, ${goal.deployment})`,
        server: this.server,
        startHint: `The write may or may not have happened: read the goal before trying again. ${defaultStartHint}`,
      });
    }
  }

  /**
   * Writes a prefetch hint: the goal a later wave of a deployment will write in `goal.region`,
   * whose agents fetch the build into their caches meanwhile (and run nothing). No
   * compare-and-set: a hint only moves bytes early, and agents follow one only while it is
   * newer than their region's goal. Returns the new revision.
   */
  async putPrefetch(goal: Goal): Promise<number> {
    const key = prefetchKey(goal.service, goal.region);
    const value = this.encodeWritable(goal, key, 'prefetch hint');
    try {
      const revision = await this.kv.put(key, value);
      this.logger.info({ service: goal.service, region: goal.region, build: goal.build, deployment: goal.deployment, revision }, 'prefetch hint written');
      return revision;
    } catch (err) {
      throw natsFailure(err, { action: `writing prefetch hint ${key} (${goal.build}, ${goal.deployment})`, server: this.server, startHint: defaultStartHint });
    }
  }

  /** Validates a document for `key` and checks that writing it can work now. */
  private encodeWritable(goal: Goal, key: string, what: 'goal' | 'prefetch hint'): Uint8Array {
    const value = encodeGoal(goal);
    if (!this.options.regions.includes(goal.region)) {
      // No leaf mirrors such a key into an agent's view: a typo must not look like a deploy.
      throw new FleetcastError('INVALID_INPUT', `region ${goal.region} is not one of the configured regions (${this.options.regions.join(', ')}): check FLEETCAST_REGIONS or the deploy's regions`, { region: goal.region, regions: this.options.regions });
    }
    if (!this.connection.connected) {
      // Refused before sending: a write buffered while reconnecting may land with its answer lost.
      throw new FleetcastError('NATS_UNAVAILABLE', `writing ${what} ${key} (${goal.build}, ${goal.deployment}): not connected to ${this.server} (reconnecting); nothing was written — try again when the hub is back. ${defaultStartHint}`, { key, server: this.server });
    }
    return value;
  }

  /** The current goal of a service in a region, or null when there is none (never set, deleted or purged). */
  async get(service: string, region: string): Promise<GoalRevision | null> {
    const key = goalKey(service, region);
    let entry: KvEntry | null;
    try {
      entry = await this.kv.get(key);
    } catch (err) {
      throw natsFailure(err, { action: `reading goal ${key}`, server: this.server, startHint: defaultStartHint });
    }
    // A deleted or purged key reads as a DEL/PURGE marker, not as "no entry".
    if (!entry || entry.operation !== 'PUT') return null;
    return { goal: decodeGoal(entry.value, key, entry.revision), revision: entry.revision, storedAt: entry.created };
  }

  /**
   * The goals the key has held, newest first (the current one first), as far back as the
   * bucket's history reaches. Rollback reads this when SQL is down. Malformed entries are left
   * out (and logged): nothing can be rolled back to them.
   */
  async history(service: string, region: string): Promise<GoalRevision[]> {
    const key = goalKey(service, region);
    const goals: GoalRevision[] = [];
    try {
      const entries = await this.kv.history({ key });
      try {
        for await (const entry of entries) {
          if (entry.operation !== 'PUT') continue;
          try {
            goals.push({ goal: decodeGoal(entry.value, key, entry.revision), revision: entry.revision, storedAt: entry.created });
          } catch (err) {
            if (!isFleetcastError(err, 'GOAL_INVALID')) throw err;
            this.logger.warn({ err, key, revision: entry.revision }, 'skipping a malformed goal in the history');
          }
        }
      } finally {
        // Not waited for: the history is read, and the consumer expires by itself (releaseKvConsumer).
        void releaseKvConsumer(entries);
      }
    } catch (err) {
      throw natsFailure(err, { action: `reading the history of goal ${key}`, server: this.server, startHint: defaultStartHint });
    }
    return goals.reverse();
  }

  /** Closes the connection unless it was given in the options. */
  async close(): Promise<void> {
    this.connection.stop();
    if (this.ownsConnection && !this.nc.isClosed()) await this.nc.close();
  }

  private async conflict(goal: Goal, key: string, expected: number | null): Promise<FleetcastError> {
    let current: GoalRevision | null = null;
    let currentRevision: number | null = null;
    try {
      current = await this.get(goal.service, goal.region);
      currentRevision = current?.revision ?? null;
    } catch (err) {
      // A malformed current value still has a revision; the message should say which.
      if (isFleetcastError(err, 'GOAL_INVALID')) currentRevision = Number(err.details.revision);
    }
    const now = current
      ? `it now holds ${current.goal.build} (${current.goal.kind} ${current.goal.deployment} by ${current.goal.by} at ${current.goal.at}) at revision ${current.revision}`
      : currentRevision !== null
        ? `it now holds a malformed value at revision ${currentRevision}`
        : 'it now holds no goal';
    return new FleetcastError(
      'GOAL_CONFLICT',
      `goal ${key} changed while ${goal.deployment} was being written (expected ${expected === null ? 'no goal' : `revision ${expected}`}; ${now}); look at the new goal and deploy again if still wanted`,
      { key, expectedRevision: expected, currentRevision, current: current?.goal ?? null },
    );
  }
}

/**
 * A writer pointed at a leaf would create a `goal` bucket of its own there, which no region
 * mirrors: refuse, naming the domain it found.
 */
async function checkIsHub(nc: NatsConnection, server: string, timeout: number): Promise<void> {
  let domain: string | undefined;
  try {
    domain = (await (await streamManager(nc, { timeoutMs: timeout })).getAccountInfo()).domain;
  } catch (err) {
    throw natsFailure(err, { action: 'checking the JetStream domain', server, startHint: 'Is JetStream enabled (ops/nats/hub.conf.template)?' });
  }
  if (domain !== hubDomain) {
    throw new FleetcastError(
      'CONFIG_INVALID',
      `${server} is JetStream domain ${domain === undefined ? '(none)' : `"${domain}"`}, not the hub ("${hubDomain}"): point the coordinator's FLEETCAST_NATS_URL at the hub (ops/nats/hub.conf.template)`,
      { domain: domain ?? null },
    );
  }
}
