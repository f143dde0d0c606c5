import { z } from 'zod';
import { FleetcastError } from '../errors/index.ts';
import { describeIssues } from './goal-document.ts';
import { machinePattern, servicePattern } from './names.ts';

/** The most cached builds one report lists (the cache keeps FLEETCAST_AGENT_CACHE_BUILDS, a handful). */
export const maxCachedReported = 32;

export const agentStates = ['idle', 'downloading', 'verifying', 'installing', 'running', 'failed'] as const;
export type AgentState = (typeof agentStates)[number];

/** Why an agent did not apply a document its region's goal mirror held. */
export const refusalCodes = ['GOAL_INVALID', 'GOAL_SIGNATURE_INVALID', 'GOAL_REPLAYED'] as const;
export type RefusalCode = (typeof refusalCodes)[number];

/** The last document an agent refused for a service, while no accepted one has come since. */
export const refusalSchema = z.object({
  code: z.enum(refusalCodes),
  message: z.string().max(600),
  /** Whether the refused document was the goal or a prefetch hint. */
  purpose: z.enum(['goal', 'prefetch']),
  at: z.iso.datetime({ offset: true }),
});
export type Refusal = z.infer<typeof refusalSchema>;

/**
 * What one agent says about one service, stored under `<service>.<machine>` in its region's
 * `status-<region>` bucket (one value per key, overwritten on every report).
 */
export const statusSchema = z.object({
  v: z.literal(1),
  machine: z.string().regex(machinePattern),
  service: z.string().regex(servicePattern),
  /** The build this state is about (installing b43, running b42); null when idle with nothing installed. */
  build: z.string().regex(/^b\d+$/).nullable(),
  state: z.enum(agentStates),
  /** Bytes of `build` the machine has so far, and its size; 0 when unknown. */
  bytes: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  /** P2P peers the agent currently exchanges blocks with. */
  peers: z.number().int().nonnegative(),
  /** Why the state is `failed` (or the last transient problem); null otherwise. */
  error: z.string().max(1000).nullable(),
  /**
   * Where the build's output is on that machine: a file (rotated: `<file>.1`… hold the older
   * part) or `journald: journalctl -u <unit>` with a systemd run hook. Absent from agents
   * older than it, and while nothing runs.
   */
  log: z.string().max(1000).optional(),
  /** The agent's clock; silence is judged by the server's timestamp instead (clocks of 100,000 machines drift). */
  at: z.iso.datetime({ offset: true }),
  // Added with signed goals; absent in reports of older agents, which then never count as running the goal.
  /** sha256 of the artifact the machine runs (state `running`, verified when it was installed); null otherwise. */
  digest: z.string().regex(/^[0-9a-f]{64}$/).nullable().default(null),
  /** The sequence of the signed goal this state is about: for `running`, the goal the machine applied. */
  seq: z.number().int().positive().nullable().default(null),
  /** The last document refused for this service (nothing was fetched or run for it); null once an accepted one came. */
  refusal: refusalSchema.nullable().default(null),
  /** Documents refused for this service since the agent started (a counter: alerts look at its increase). */
  refusals: z.number().int().nonnegative().default(0),
  /**
   * The builds of the service verified in this machine's cache (the running one included), most
   * recently used first: what it can switch to without a transfer. Absent in reports of older agents.
   */
  cached: z.array(z.string().regex(/^b\d+$/)).max(maxCachedReported).default([]),
});

export type StatusReport = z.infer<typeof statusSchema>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeStatus(report: StatusReport): Uint8Array {
  const result = statusSchema.safeParse(report);
  if (!result.success) {
    throw new FleetcastError('INVALID_INPUT', `invalid status report for ${report?.service}.${report?.machine}: ${describeIssues(result.error)}`, { issues: result.error.issues });
  }
  return encoder.encode(JSON.stringify(result.data));
}

export function decodeStatus(value: Uint8Array, key: string): StatusReport {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(value));
  } catch {
    throw invalidStatus(key, 'the value is not JSON');
  }
  const result = statusSchema.safeParse(json);
  if (!result.success) throw invalidStatus(key, describeIssues(result.error));
  if (`${result.data.service}.${result.data.machine}` !== key) throw invalidStatus(key, `the report is for ${result.data.service}.${result.data.machine}`);
  return result.data;
}

function invalidStatus(key: string, problem: string): FleetcastError {
  return new FleetcastError('GOAL_INVALID', `status report ${key} is malformed (${problem}); it is not counted — the agent on that machine writes a valid one with its next report`, { key, problem });
}
