import { z } from 'zod';
import { FleetcastError } from '../errors/index.ts';
import { goalKey, prefetchKey, regionPattern, servicePattern } from './names.ts';

/**
 * The goal of one service in one region, as stored (JSON) under `<service>.<region>` in the
 * `goal` bucket. Versioned: an agent that meets a version it does not know reports GOAL_INVALID
 * and keeps its previous goal instead of guessing.
 */
export const goalSchema = z.object({
  v: z.literal(1),
  service: z.string().regex(servicePattern),
  region: z.string().regex(regionPattern),
  build: z.string().regex(/^b\d+$/, 'a build id such as b42'),
  /** sha256 of the artifact, lower-case hex. */
  digest: z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hex digits (sha256)'),
  size: z.number().int().nonnegative(),
  /** The artifact's object name in the blob stores. */
  artifact: z.string().min(1).max(1024),
  /** The P2P (Hypercore) public key of the build's core, hex; null: agents fetch from the regional bucket. */
  p2pKey: z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hex digits (an Ed25519 public key)').nullable(),
  /** The artifact's own file name on the machine (the last segment of the service's artifact path). */
  fileName: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$/, 'a plain file name').default('artifact'),
  /** The service's run command (through the shell, in the build's directory); null: install only. */
  runCommand: z.string().min(1).max(4000).nullable().default(null),
  /** An HTTP URL the agent checks after switching (2xx = healthy); null: the process staying up is enough. */
  healthUrl: z.url({ protocol: /^https?$/ }).max(2000).nullable().default(null),
  deployment: z.string().regex(/^d\d+$/, 'a deployment id such as d7'),
  kind: z.enum(['deploy', 'rollback']),
  /** Who asked: a Slack user, an API token's name. */
  by: z.string().min(1).max(200),
  at: z.iso.datetime({ offset: true }),
  reason: z.string().max(2000),
});

export type Goal = z.infer<typeof goalSchema>;

/** A goal with the revision it is stored at (the key's sequence in the bucket; the same in every mirror). */
export interface GoalRevision {
  goal: Goal;
  revision: number;
  /** When the server stored it. */
  storedAt: Date;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Validates a goal before it is written; a bad one is the caller's mistake (INVALID_INPUT). */
export function encodeGoal(goal: Goal): Uint8Array {
  const result = goalSchema.safeParse(goal);
  if (!result.success) {
    throw new FleetcastError('INVALID_INPUT', `invalid goal for ${goal?.service}.${goal?.region}: ${describeIssues(result.error)}`, { issues: result.error.issues });
  }
  return encoder.encode(JSON.stringify(result.data));
}

/**
 * Parses a stored value. Whatever is wrong (not JSON, unknown version, a field out of range, a
 * document filed under another key) becomes GOAL_INVALID naming the key and revision, so a
 * watcher can report it and keep the last good goal.
 */
export function decodeGoal(value: Uint8Array, key: string, revision: number): Goal {
  return decodeDocument(value, key, revision, (goal) => goalKey(goal.service, goal.region));
}

/** Parses a prefetch hint (a goal document under `<service>_prefetch.<region>`); errors as decodeGoal's. */
export function decodePrefetchHint(value: Uint8Array, key: string, revision: number): Goal {
  return decodeDocument(value, key, revision, (goal) => prefetchKey(goal.service, goal.region));
}

function decodeDocument(value: Uint8Array, key: string, revision: number, keyOf: (goal: Goal) => string): Goal {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(value));
  } catch {
    throw invalid(key, revision, 'the value is not JSON', value);
  }
  const version = (json as { v?: unknown } | null)?.v;
  if (typeof json === 'object' && json !== null && version !== undefined && version !== 1) {
    throw invalid(key, revision, `unknown document version ${JSON.stringify(version)} (this fleetcast reads version 1; upgrade it)`, value);
  }
  const result = goalSchema.safeParse(json);
  if (!result.success) throw invalid(key, revision, describeIssues(result.error), value);
  const goal = result.data;
  if (keyOf(goal) !== key) {
    throw invalid(key, revision, `the document is for ${keyOf(goal)}`, value);
  }
  return goal;
}

function invalid(key: string, revision: number, problem: string, value: Uint8Array): FleetcastError {
  return new FleetcastError(
    'GOAL_INVALID',
    `goal ${key} at revision ${revision} is malformed (${problem}); it is ignored and the previous goal stays in force — write a valid goal for ${key} (deploy or rollback) to replace it`,
    { key, revision, problem, value: decoder.decode(value.slice(0, 200)) },
  );
}

export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'document'}: ${issue.message}`).join('; ');
}
