import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { FleetcastError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';
import { goalBucket, goalMirrorBucket, hubDomain, kvStream, statusBucket } from './names.ts';
import { natsFailure } from './nats-failure.ts';
import { createBucket, streamManager } from './open-bucket.ts';

export interface FleetBucketsOptions {
  regions: string[];
  /** Goals kept per key on the hub: the rollback path reads them when SQL is down. @defaultValue 20 */
  goalHistory?: number;
  /** Goals kept per key in each region's mirror. @defaultValue 10 */
  mirrorHistory?: number;
  /** Status reports older than this are dropped by the leaf (machines gone for good). @defaultValue 24 h */
  statusMaxAgeMs?: number;
  /** Largest status report. @defaultValue 4096 */
  statusMaxValueSize?: number;
  /**
   * Copies of `goal` on the hub and of each region's mirror and status bucket on its leaf
   * servers (FLEETCAST_NATS_REPLICAS): 3 on clustered NATS, so one server of the hub or of a
   * region can die without stopping deploys, rollbacks or status reports. Existing buckets with
   * fewer copies are raised. @defaultValue 1
   */
  replicas?: number;
}

export const bucketDefaults = {
  goalHistory: 20,
  mirrorHistory: 10,
  statusMaxAgeMs: 24 * 3_600_000,
  statusMaxValueSize: 4096,
  replicas: 1,
} as const;

/**
 * Creates what is missing, idempotently: `goal` on the hub, and in each region's JetStream
 * domain (reached through the hub's leaf links as $JS.<region>.API) the mirror `goal-<region>`
 * and the status bucket `status-<region>`. Existing buckets are kept; a `goal` bucket with less
 * history than asked gets more. Regions whose leaf does not answer are skipped and named in the
 * error thrown at the end, after every reachable region is set up.
 */
/** Who does it, for messages and logs, and how long each request may take. */
export interface EnsureContext {
  server: string;
  logger: Logger;
  timeoutMs: number;
}

export async function ensureFleetBuckets(nc: NatsConnection, options: FleetBucketsOptions, context: EnsureContext): Promise<void> {
  const { server, logger, timeoutMs: timeout } = context;
  const goalHistory = options.goalHistory ?? bucketDefaults.goalHistory;
  const replicas = options.replicas ?? bucketDefaults.replicas;
  // The connection is to the hub (GoalWriter checks its domain), so the plain API prefix is the hub's.
  const hint = `Is ${server} the NATS hub, with JetStream domain "${hubDomain}" (ops/nats/hub.conf.template)?`;
  try {
    await createBucket(nc, goalBucket, { timeoutMs: timeout }, { history: goalHistory, replicas, description: 'fleetcast goal state: <service>.<region> -> goal document' });
    const hubManager = await streamManager(nc, { timeoutMs: timeout });
    const info = await hubManager.streams.info(kvStream(goalBucket));
    if (info.config.max_msgs_per_subject < goalHistory || info.config.num_replicas < replicas) {
      await hubManager.streams.update(kvStream(goalBucket), { ...info.config, max_msgs_per_subject: Math.max(goalHistory, info.config.max_msgs_per_subject), num_replicas: Math.max(replicas, info.config.num_replicas) });
      logger.info({ bucket: goalBucket, history: goalHistory, replicas }, 'raised the history or the replicas of the goal bucket');
    }
  } catch (err) {
    throw natsFailure(err, { action: `creating the ${goalBucket} bucket on the hub`, server, startHint: hint });
  }

  const failed: { region: string; error: FleetcastError }[] = [];
  await Promise.all(
    options.regions.map(async (region) => {
      try {
        await ensureRegionBuckets(nc, region, options, timeout);
      } catch (err) {
        const error = natsFailure(err, {
          action: `creating ${goalMirrorBucket(region)} and ${statusBucket(region)} in region ${region}`,
          server: `the leaf of region ${region} (JetStream domain "${region}", reached through ${server})`,
          startHint: `Start the region's leaf node (ops/nats/leaf.conf.template) and check its link to the hub.`,
        });
        logger.warn({ region, err: error }, 'could not set up the buckets of a region');
        failed.push({ region, error });
      }
    }),
  );
  if (failed.length === 1) throw failed[0]!.error;
  if (failed.length > 1) {
    throw new FleetcastError(
      failed.every((f) => f.error.code === 'NATS_UNAVAILABLE') ? 'NATS_UNAVAILABLE' : 'INTERNAL',
      `could not set up the buckets of regions ${failed.map((f) => f.region).join(', ')}: ${failed.map((f) => f.error.message).join(' | ')}`,
      { regions: failed.map((f) => f.region) },
    );
  }
}

async function ensureRegionBuckets(nc: NatsConnection, region: string, options: FleetBucketsOptions, timeout: number): Promise<void> {
  const access = { domain: region, timeoutMs: timeout };
  const replicas = options.replicas ?? bucketDefaults.replicas;
  // The mirror must name its source by the hub's domain: it lives in the region's domain.
  await createBucket(nc, goalMirrorBucket(region), access, {
    mirror: { name: goalBucket, domain: hubDomain },
    history: options.mirrorHistory ?? bucketDefaults.mirrorHistory,
    replicas,
    description: `fleetcast goal state of region ${region}: a mirror of ${goalBucket} on the hub`,
  });
  const jsm = await streamManager(nc, access);
  const mirror = await jsm.streams.info(kvStream(goalMirrorBucket(region)));
  if (mirror.config.mirror?.name !== kvStream(goalBucket)) {
    throw new FleetcastError(
      'CONFIG_INVALID',
      `bucket ${goalMirrorBucket(region)} in region ${region} exists but is not a mirror of ${goalBucket} (someone created it by hand, or replaced the mirror): the coordinator's mirror check recreates it as a mirror within two checks (FLEETCAST_MIRROR_CHECK_EVERY); find out who could write it`,
      { region },
    );
  }
  await raiseReplicas(jsm, kvStream(goalMirrorBucket(region)), replicas);
  await createBucket(nc, statusBucket(region), access, {
    history: 1,
    replicas,
    ttl: options.statusMaxAgeMs ?? bucketDefaults.statusMaxAgeMs,
    maxValueSize: options.statusMaxValueSize ?? bucketDefaults.statusMaxValueSize,
    description: `fleetcast agent status of region ${region}: <service>.<machine> -> report`,
  });
  await raiseReplicas(jsm, kvStream(statusBucket(region)), replicas);
}

/** A bucket made before its servers were a cluster gets its copies added (the server moves its data). */
async function raiseReplicas(jsm: JetStreamManager, stream: string, replicas: number): Promise<void> {
  const info = await jsm.streams.info(stream);
  if (info.config.num_replicas < replicas) await jsm.streams.update(stream, { ...info.config, num_replicas: replicas });
}
