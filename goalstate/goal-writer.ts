import type { KV, KvEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { FleetcastError, isFleetcastError } from '../errors/index.ts';
import { silentLogger, type Logger } from '../logging/index.ts';
import { ConnectionState } from './connection-state.ts';
import { ensureFleetBuckets, type FleetBucketsOptions } from './ensure-buckets.ts';
import { releaseKvConsumer } from './kv-consumer.ts';
import type { VerifyingKeyring } from '../trust/index.ts';
import { decodeGoal, decodePrefetchHint, encodeGoal, type Goal, type GoalContent, type GoalRevision } from './goal-document.ts';
import { nextSeq, noSigningKey, signGoal, type GoalSigningKey } from './goal-signer.ts';
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
  /**
   * The coordinator's goal-signing key (FLEETCAST_GOAL_SIGNING_KEY); without one, put() and
   * putPrefetch() refuse with CONFIG_INVALID naming the setting: agents apply only signed goals.
   */
  signingKey?: GoalSigningKey;
  /**
   * The keys reads are verified with (FLEETCAST_GOAL_PUBLIC_KEYS, and the signing key's own):
   * get() and history() return only documents a trusted key signed. Without one, every stored
   * goal reads as GOAL_SIGNATURE_INVALID.
   */
  keyring?: VerifyingKeyring;
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
  /** The sequence of the verified document at a key's revision, as last read or written here: put() builds on it without reading again. */
  private readonly seqs = new Map<string, { revision: number; seq: number }>();

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

  /** Whether this writer holds a signing key: without one it writes no goal (CONFIG_INVALID naming FLEETCAST_GOAL_SIGNING_KEY). */
  get signs(): boolean {
    return this.options.signingKey !== undefined;
  }

  /** Creates `goal` on the hub and each region's mirror and status bucket; safe to call at every start. */
  async ensureBuckets(): Promise<void> {
    await ensureFleetBuckets(this.nc, this.options, { server: this.server, logger: this.logger, timeoutMs: this.timeoutMs });
  }

  /**
   * Signs and writes the goal of `content.service` in `content.region` if the key is still at
   * `expectedRevision` (null: the key has no goal). The document's sequence is the one before
   * it plus one, at least the clock (nextSeq): taken from the verified goal at
   * `expectedRevision`, else the newest verified one in the key's history — never from SQL.
   */
  async put(content: GoalContent, options: PutGoalOptions): Promise<GoalRevision> {
    const key = goalKey(content.service, content.region);
    const signingKey = this.writable(content, key, 'goal');
    const previous = await this.previousSeq(content.service, content.region, options.expectedRevision);
    const goal = signGoal(content, 'goal', nextSeq(previous), signingKey);
    const value = encodeGoal(goal);
    try {
      const revision = options.expectedRevision === null ? await this.kv.create(key, value) : await this.kv.update(key, value, options.expectedRevision);
      this.seqs.set(key, { revision, seq: goal.seq });
      this.logger.info({ service: goal.service, region: goal.region, build: goal.build, deployment: goal.deployment, kind: goal.kind, revision, seq: goal.seq, keyId: goal.sig.key }, 'goal written');
      return { goal, revision, storedAt: new Date() };
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
   * Signs and writes a prefetch hint: the goal a later wave of a deployment will write in
   * `content.region`, whose agents fetch the build into their caches meanwhile (and run
   * nothing). No compare-and-set: a hint only moves bytes early. Its sequence is above the
   * region's goal's, and agents follow a hint only while it stays above their goal's — so the
   * wave itself, a rollback or a later deploy ends it, and an old hint replayed counts for
   * nothing.
   */
  async putPrefetch(content: GoalContent): Promise<GoalRevision> {
    const key = prefetchKey(content.service, content.region);
    const signingKey = this.writable(content, key, 'prefetch hint');
    // Above the region's goal as this writer knows it, and never below the clock: a goal written
    // since by another coordinator is newer than the hint anyway, which then simply counts no more.
    const goalSeq = this.seqs.get(goalKey(content.service, content.region))?.seq ?? 0;
    const goal = signGoal(content, 'prefetch', nextSeq(Math.max(goalSeq, this.seqs.get(key)?.seq ?? 0)), signingKey);
    try {
      const revision = await this.kv.put(key, encodeGoal(goal));
      this.seqs.set(key, { revision, seq: goal.seq });
      this.logger.info({ service: goal.service, region: goal.region, build: goal.build, deployment: goal.deployment, revision, seq: goal.seq }, 'prefetch hint written');
      return { goal, revision, storedAt: new Date() };
    } catch (err) {
      throw natsFailure(err, { action: `writing prefetch hint ${key} (${goal.build}, ${goal.deployment})`, server: this.server, startHint: defaultStartHint });
    }
  }

  /** Checks that a document for `key` can be signed and written now; the key to sign with. */
  private writable(content: GoalContent, key: string, what: 'goal' | 'prefetch hint') {
    if (!this.options.signingKey) throw noSigningKey(`${what} ${key} (${content.build}, ${content.deployment})`);
    if (!this.options.regions.includes(content.region)) {
      // No leaf mirrors such a key into an agent's view: a typo must not look like a deploy.
      throw new FleetcastError('INVALID_INPUT', `region ${content.region} is not one of the configured regions (${this.options.regions.join(', ')}): check FLEETCAST_REGIONS or the deploy's regions`, { region: content.region, regions: this.options.regions });
    }
    if (!this.connection.connected) {
      // Refused before sending: a write buffered while reconnecting may land with its answer lost.
      throw new FleetcastError('NATS_UNAVAILABLE', `writing ${what} ${key} (${content.build}, ${content.deployment}): not connected to ${this.server} (reconnecting); nothing was written — try again when the hub is back. ${defaultStartHint}`, { key, server: this.server });
    }
    return this.options.signingKey.current();
  }

  /**
   * The sequence a new goal of the key must exceed: the verified goal's at `revision` when this
   * writer read or wrote it, else the highest verified one in the key's history (the current
   * value may be malformed, forged or deleted). undefined: no signed goal was ever kept there.
   */
  private async previousSeq(service: string, region: string, revision: number | null | undefined): Promise<number | undefined> {
    const key = goalKey(service, region);
    const known = this.seqs.get(key);
    if (known && revision !== undefined && known.revision === revision) return known.seq;
    const history = await this.history(service, region);
    const highest = history.reduce<number | undefined>((max, entry) => Math.max(max ?? 0, entry.goal.seq), undefined);
    return Math.max(highest ?? 0, known?.seq ?? 0) || undefined;
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
    const goal = decodeGoal(entry.value, key, entry.revision, this.decodeContext);
    this.seqs.set(key, { revision: entry.revision, seq: goal.seq });
    return { goal, revision: entry.revision, storedAt: entry.created };
  }

  /** The current prefetch hint of a service in a region, or null; verified like get(). */
  async getPrefetch(service: string, region: string): Promise<GoalRevision | null> {
    const key = prefetchKey(service, region);
    let entry: KvEntry | null;
    try {
      entry = await this.kv.get(key);
    } catch (err) {
      throw natsFailure(err, { action: `reading prefetch hint ${key}`, server: this.server, startHint: defaultStartHint });
    }
    if (!entry || entry.operation !== 'PUT') return null;
    return { goal: decodePrefetchHint(entry.value, key, entry.revision, this.decodeContext), revision: entry.revision, storedAt: entry.created };
  }

  private get decodeContext() {
    return { keyring: this.options.keyring };
  }

  /**
   * The goals the key has held, newest first (the current one first), as far back as the
   * bucket's history reaches. Rollback reads this when SQL is down. Only documents a trusted key
   * signed are returned: malformed, unsigned or forged entries are left out (and logged), so
   * nothing can be rolled back to them and no sequence is taken from them.
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
            goals.push({ goal: decodeGoal(entry.value, key, entry.revision, this.decodeContext), revision: entry.revision, storedAt: entry.created });
          } catch (err) {
            if (!isFleetcastError(err, 'GOAL_INVALID') && !isFleetcastError(err, 'GOAL_SIGNATURE_INVALID')) throw err;
            this.logger.warn({ err, key, revision: entry.revision }, 'skipping a goal in the history that is malformed or not signed by a trusted key');
          }
        }
      } finally {
        // Not waited for: the history is read, and the consumer expires by itself (releaseKvConsumer).
        void releaseKvConsumer(entries);
      }
    } catch (err) {
      throw natsFailure(err, { action: `reading the history of goal ${key}`, server: this.server, startHint: defaultStartHint });
    }
    goals.reverse();
    // The newest verified document and its revision: a put() at that revision needs no second read.
    const newest = goals[0];
    if (newest && newest.revision >= (this.seqs.get(key)?.revision ?? 0)) this.seqs.set(key, { revision: newest.revision, seq: newest.goal.seq });
    return goals;
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
      // A malformed or unverifiable current value still has a revision; the message should say which.
      if (isFleetcastError(err, 'GOAL_INVALID') || isFleetcastError(err, 'GOAL_SIGNATURE_INVALID')) currentRevision = Number(err.details.revision);
    }
    const now = current
      ? `it now holds ${current.goal.build} (${current.goal.kind} ${current.goal.deployment} by ${current.goal.by} at ${current.goal.at}) at revision ${current.revision}`
      : currentRevision !== null
        ? `it now holds a malformed or unsigned value at revision ${currentRevision}`
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
