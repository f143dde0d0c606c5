import { z } from 'zod';
import { FleetcastError } from '../errors/index.ts';
import { verifyDocument, type SignatureProblem, type VerifyingKeyring } from '../trust/index.ts';
import { isValidShare } from './canary-share.ts';
import { goalKey, prefetchKey, regionPattern, servicePattern } from './names.ts';

/**
 * What a goal says about a build: everything an agent needs to fetch, verify and run it, and
 * who asked. The defaults serve only build marks written by older agents (BuildCache): a goal
 * document (version 2) carries every field, and its signature covers them all.
 */
export const goalContentSchema = z.object({
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
  /**
   * A canary inside the region: only the machines in `share` percent of it (inShare: a hash of
   * service and machine id) apply this goal; the others keep the build they run (and may fetch
   * this one into their cache). Absent: every machine of the region. A document with it is
   * version 3, so an agent older than shares refuses it instead of running it everywhere.
   */
  canary: z.object({ share: z.number().refine(isValidShare, 'a percentage above 0 and below 100, at most two decimals') }).strict().optional(),
});

export type GoalContent = z.output<typeof goalContentSchema>;

/** A goal (what runs) or a prefetch hint (what a later wave brings, fetched and never run). */
export const goalPurposes = ['goal', 'prefetch'] as const;
export type GoalPurpose = (typeof goalPurposes)[number];

/**
 * The goal of one service in one region as stored (JSON) under `<service>.<region>` in the
 * `goal` bucket — or a prefetch hint under `<service>_prefetch.<region>`. Version 2: signed by
 * the coordinator (`sig`, over the canonical JSON of every other field), with `purpose` (so a
 * hint cannot stand in for a goal) and `seq`, which only grows per service and region (so an
 * old signed goal cannot be replayed). Version 1 documents were unsigned: readers refuse them.
 */
export const goalSchema = goalContentSchema.extend({
  v: z.union([z.literal(2), z.literal(3)]),
  purpose: z.enum(goalPurposes),
  seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  sig: z.object({ key: z.string().regex(/^[0-9a-f]{16}$/), value: z.string().regex(/^[A-Za-z0-9_-]{86}$/) }),
  fileName: goalContentSchema.shape.fileName.unwrap(),
  runCommand: goalContentSchema.shape.runCommand.unwrap(),
  healthUrl: goalContentSchema.shape.healthUrl.unwrap(),
}).refine((goal) => (goal.v === 3) === (goal.canary !== undefined), { message: 'a version-3 document carries a canary share, a version-2 one does not', path: ['v'] });

export type Goal = z.output<typeof goalSchema>;

/** A goal with the revision it is stored at (the key's sequence in the bucket; the same in every mirror). */
export interface GoalRevision {
  goal: Goal;
  revision: number;
  /** When the server stored it. */
  storedAt: Date;
}

/** What a signed document says about its build, without its signature, sequence and purpose: the content to sign anew. */
export function goalContent(goal: Goal): GoalContent {
  const { v: _v, purpose: _purpose, seq: _seq, sig: _sig, ...content } = goal;
  return content;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Validates content before it is signed; a bad one is the caller's mistake (INVALID_INPUT). */
export function checkGoalContent(content: GoalContent): GoalContent {
  const result = goalContentSchema.safeParse(content);
  if (!result.success) {
    throw new FleetcastError('INVALID_INPUT', `invalid goal for ${content?.service}.${content?.region}: ${describeIssues(result.error)}`, { issues: result.error.issues });
  }
  return result.data;
}

/** The stored bytes of a signed document. */
export function encodeGoal(goal: Goal): Uint8Array {
  return encoder.encode(JSON.stringify(goal));
}

/** Where a key's documents are checked: the keys trusted, and what the key holds. */
export interface DecodeContext {
  /** undefined: this reader trusts no key (its settings name none), so it accepts nothing. */
  keyring: VerifyingKeyring | undefined;
}

/**
 * Parses and verifies a stored goal. Malformed (not JSON, unknown version, a field out of range)
 * is GOAL_INVALID; unsigned (version 1), signed by a key the reader does not trust, changed
 * since it was signed, or signed for another key or purpose is GOAL_SIGNATURE_INVALID. Either
 * names the key and revision, so a watcher can report it and keep the last good goal.
 */
export function decodeGoal(value: Uint8Array, key: string, revision: number, context: DecodeContext): Goal {
  return decodeDocument(value, key, revision, context, 'goal');
}

/** Parses and verifies a prefetch hint (under `<service>_prefetch.<region>`); errors as decodeGoal's. */
export function decodePrefetchHint(value: Uint8Array, key: string, revision: number, context: DecodeContext): Goal {
  return decodeDocument(value, key, revision, context, 'prefetch');
}

function decodeDocument(value: Uint8Array, key: string, revision: number, context: DecodeContext, purpose: GoalPurpose): Goal {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(value));
  } catch {
    throw invalid(key, revision, 'the value is not JSON', value);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid(key, revision, 'document: not a JSON object', value);
  const version = (json as { v?: unknown }).v;
  if (version === 1 || version === undefined) throw refused(key, revision, 'UNSIGNED', value, 'it is an unsigned version-1 document, written before goals were signed');
  if (version !== 2 && version !== 3) throw invalid(key, revision, `unknown document version ${JSON.stringify(version)} (this fleetcast reads versions 2 and 3; upgrade it)`, value);
  // The signature first, over the stored fields exactly: nothing unverified is even parsed further.
  if (!context.keyring) throw refused(key, revision, 'NO_TRUSTED_KEYS', value, 'this reader trusts no goal-signing key (FLEETCAST_GOAL_PUBLIC_KEYS is not set)');
  const verified = verifyDocument(json, context.keyring);
  if (!verified.ok) throw refused(key, revision, verified.problem, value, signatureProblem(verified.problem, verified.keyId));
  const result = goalSchema.safeParse(json);
  if (!result.success) throw invalid(key, revision, describeIssues(result.error), value);
  const goal = result.data;
  const signedFor = goal.purpose === 'goal' ? goalKey(goal.service, goal.region) : prefetchKey(goal.service, goal.region);
  if (signedFor !== key || goal.purpose !== purpose) {
    // A real signature, for another place: a hint copied into the goal key, another region's goal.
    throw refused(key, revision, 'MISPLACED', value, `it was signed as the ${goal.purpose === 'goal' ? 'goal' : 'prefetch hint'} ${signedFor}, not as this ${purpose === 'goal' ? 'goal' : 'prefetch hint'}`);
  }
  return goal;
}

function signatureProblem(problem: SignatureProblem, keyId: string | undefined): string {
  if (problem === 'UNSIGNED') return 'it carries no signature';
  if (problem === 'UNKNOWN_KEY') return `it is signed by key ${keyId}, which this reader does not trust (FLEETCAST_GOAL_PUBLIC_KEYS)`;
  return 'its signature does not match its content (changed after it was signed)';
}

function invalid(key: string, revision: number, problem: string, value: Uint8Array): FleetcastError {
  return new FleetcastError(
    'GOAL_INVALID',
    `goal ${key} at revision ${revision} is malformed (${problem}); it is ignored and the previous goal stays in force — write a valid goal for ${key} (deploy or rollback) to replace it`,
    { key, revision, problem, value: decoder.decode(value.slice(0, 200)) },
  );
}

/** Why a document was refused on its signature: one of SignatureProblem, NO_TRUSTED_KEYS or MISPLACED. */
export type GoalSignatureProblem = SignatureProblem | 'NO_TRUSTED_KEYS' | 'MISPLACED';

function refused(key: string, revision: number, problem: GoalSignatureProblem, value: Uint8Array, why: string): FleetcastError {
  return new FleetcastError(
    'GOAL_SIGNATURE_INVALID',
    `goal ${key} at revision ${revision} is refused: ${why}. Nothing is fetched or run for it and the previous goal stays in force; only a document the coordinator signed is applied — check who can write this region's goal mirror (fleetcast status shows its state), and deploy or roll back to replace it`,
    { key, revision, problem, value: decoder.decode(value.slice(0, 200)) },
  );
}

export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'document'}: ${issue.message}`).join('; ');
}
