import type { StreamInfo } from '@nats-io/jetstream';
import type { KV, KvEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { bucketDefaults } from './ensure-buckets.ts';
import { goalBucket, goalMirrorBucket, hubDomain, kvStream } from './names.ts';
import { jetStreamErrorCode, natsFailure, streamNotFound } from './nats-failure.ts';
import { createBucket, openBucket, streamManager } from './open-bucket.ts';

/**
 * What is wrong with a region's goal mirror, if anything:
 * - `missing`: no stream `KV_goal-<region>` on the leaf;
 * - `not-a-mirror`: a stream of that name that is not a mirror of the hub's `goal` (a plain
 *   stream someone created, which takes writes from anyone who can publish on the leaf);
 * - `diverged`: a mirror, caught up, whose documents differ from the hub's (deleted or extra
 *   messages, or a key it does not hold);
 * - `stalled`: it has not heard from the hub for longer than allowed (the leaf link is down);
 * - `unreachable`: the leaf's JetStream did not answer through the hub.
 */
export const mirrorProblems = ['missing', 'not-a-mirror', 'diverged', 'stalled', 'unreachable'] as const;
export type MirrorProblem = (typeof mirrorProblems)[number];

export interface MirrorInspection {
  region: string;
  /** `ok`: a mirror of the hub's goal bucket, in touch with it, holding what the hub holds. */
  state: 'ok' | MirrorProblem;
  /** What is wrong, for a person; null when ok. */
  problem: string | null;
  /** Messages the mirror knows it has not copied yet; null when it could not be read. */
  lag: number | null;
  /** Since the mirror last heard from the hub; null when unknown. */
  lastActiveMs: number | null;
  /** Keys (`<service>.<region>`, `<service>_prefetch.<region>`) whose document in the mirror is not the hub's. */
  diverged: string[];
}

export interface InspectOptions {
  timeoutMs: number;
  /** A mirror that has not heard from the hub for longer is `stalled`. */
  stallAfterMs: number;
}

/**
 * Reads a region's goal mirror through the hub connection (`$JS.<region>.API`): its
 * configuration, its lag, and — key by key — whether it holds exactly the documents the hub's
 * `goal` bucket holds for the region. A document that the mirror has not reached yet (its last
 * sequence is below the hub's revision) is lag, not divergence.
 */
export async function inspectGoalMirror(nc: NatsConnection, region: string, options: InspectOptions): Promise<MirrorInspection> {
  const base = { region, lag: null, lastActiveMs: null, diverged: [] };
  const stream = kvStream(goalMirrorBucket(region));
  let info: StreamInfo;
  try {
    info = await (await streamManager(nc, { domain: region, timeoutMs: options.timeoutMs })).streams.info(stream);
  } catch (err) {
    if (jetStreamErrorCode(err) === streamNotFound) return { ...base, state: 'missing', problem: `${stream} does not exist on the leaf of ${region}` };
    return { ...base, state: 'unreachable', problem: natsFailure(err, { action: `reading ${stream}`, server: `the leaf of ${region} (through the hub)`, startHint: 'Is the leaf up and linked to the hub?' }).message };
  }
  const wrong = notAMirror(info);
  if (wrong) return { ...base, state: 'not-a-mirror', problem: wrong };
  const lag = info.mirror?.lag ?? 0;
  const active = info.mirror?.active ?? -1;
  const lastActiveMs = active < 0 ? null : Math.round(active / 1e6);
  const health = { region, lag, lastActiveMs };
  if (lastActiveMs === null || lastActiveMs > options.stallAfterMs) {
    return { ...health, diverged: [], state: 'stalled', problem: `${stream} has not heard from the hub ${lastActiveMs === null ? 'since the leaf started' : `for ${Math.round(lastActiveMs / 1000)} s`} (${lag} messages behind): is the leaf's link to the hub up?` };
  }
  const diverged = await divergedKeys(nc, region, info.state.last_seq, options.timeoutMs);
  if (diverged.length > 0) {
    return { ...health, diverged, state: 'diverged', problem: `${stream} holds other documents than the hub for ${diverged.slice(0, 5).join(', ')}${diverged.length > 5 ? ` and ${diverged.length - 5} more` : ''}` };
  }
  return { ...health, diverged: [], state: 'ok', problem: null };
}

/** Why the stream is not a mirror of the hub's goal bucket; undefined when it is one. */
function notAMirror(info: StreamInfo): string | undefined {
  const { config } = info;
  const stream = config.name;
  if (!config.mirror) return `${stream} is a plain stream (subjects ${JSON.stringify(config.subjects ?? [])}), not a mirror of ${kvStream(goalBucket)} on the hub: anyone who can publish on the leaf can write into it`;
  if (config.mirror.name !== kvStream(goalBucket)) return `${stream} mirrors ${config.mirror.name}, not ${kvStream(goalBucket)}`;
  const api = config.mirror.external?.api;
  if (api !== `$JS.${hubDomain}.API`) return `${stream} mirrors ${config.mirror.name} from ${api ?? 'its own domain'}, not from the hub ($JS.${hubDomain}.API)`;
  if ((config.subjects ?? []).length > 0) return `${stream} is a mirror that also takes subjects ${JSON.stringify(config.subjects)}`;
  return undefined;
}

/** Keys of the region whose document differs between the hub and a mirror whose last sequence is `mirrorLastSeq`. */
async function divergedKeys(nc: NatsConnection, region: string, mirrorLastSeq: number, timeoutMs: number): Promise<string[]> {
  const filter = `$KV.${goalBucket}.*.${region}`;
  const [hubKeys, mirrorKeys] = await Promise.all([
    subjectsOf(nc, kvStream(goalBucket), filter, undefined, timeoutMs),
    subjectsOf(nc, kvStream(goalMirrorBucket(region)), filter, region, timeoutMs),
  ]);
  const hub = await openBucket(nc, goalBucket, { timeoutMs });
  const mirror = await openBucket(nc, goalBucket, { domain: region, timeoutMs }, { streamName: kvStream(goalMirrorBucket(region)), allow_direct: true });
  const diverged: string[] = [];
  for (const key of new Set([...hubKeys, ...mirrorKeys])) {
    const [ours, theirs] = await Promise.all([entryOf(hub, key), entryOf(mirror, key)]);
    // Not copied yet: lag, which the mirror catches up on by itself.
    if (ours && ours.revision > mirrorLastSeq) continue;
    if (!same(ours, theirs)) diverged.push(key);
  }
  return diverged.sort();
}

async function subjectsOf(nc: NatsConnection, stream: string, filter: string, domain: string | undefined, timeoutMs: number): Promise<string[]> {
  const info = await (await streamManager(nc, { ...(domain ? { domain } : {}), timeoutMs })).streams.info(stream, { subjects_filter: filter });
  const prefix = `$KV.${goalBucket}.`;
  return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
}

async function entryOf(kv: KV, key: string): Promise<KvEntry | null> {
  const entry = await kv.get(key);
  return entry && entry.operation === 'PUT' ? entry : null;
}

function same(a: KvEntry | null, b: KvEntry | null): boolean {
  if (!a || !b) return a === b;
  return a.revision === b.revision && Buffer.from(a.value).equals(Buffer.from(b.value));
}

/**
 * Makes `KV_goal-<region>` a mirror of the hub's goal bucket again: deletes what is there (a
 * plain stream, a mirror with holes) and creates the mirror, which copies the hub's documents.
 * Through the hub connection, with the coordinator's credentials. Agents' watches of it restart
 * on their own and are handed the hub's signed goals again.
 */
export async function recreateGoalMirror(nc: NatsConnection, region: string, options: { timeoutMs: number; history?: number; replicas?: number }): Promise<void> {
  const access = { domain: region, timeoutMs: options.timeoutMs };
  const stream = kvStream(goalMirrorBucket(region));
  try {
    await (await streamManager(nc, access)).streams.delete(stream);
  } catch (err) {
    if (jetStreamErrorCode(err) !== streamNotFound) throw natsFailure(err, { action: `deleting ${stream}`, server: `the leaf of ${region} (through the hub)`, startHint: 'Is the leaf up?' });
  }
  try {
    await createBucket(nc, goalMirrorBucket(region), access, {
      mirror: { name: goalBucket, domain: hubDomain },
      history: options.history ?? bucketDefaults.mirrorHistory,
      replicas: options.replicas ?? bucketDefaults.replicas,
      description: `fleetcast goal state of region ${region}: a mirror of ${goalBucket} on the hub`,
    });
  } catch (err) {
    throw natsFailure(err, { action: `creating ${stream} as a mirror of ${kvStream(goalBucket)}`, server: `the leaf of ${region} (through the hub)`, startHint: 'Is the leaf up?' });
  }
}
