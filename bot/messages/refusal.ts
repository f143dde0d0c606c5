import { FleetcastError, type ErrorCode } from '../../errors/index.ts';
import type { BuildInfo } from '../fleet/fleet-json.ts';
import { context, escape, section, type SlackMessage } from './blocks.ts';
import { replicationLine } from './replication-lines.ts';

/** The Slack wording of each error code: every refusal and failure reads the same way wherever it happens. */
const headlines = {
  INVALID_INPUT: ':warning: That did not work',
  UNAUTHORIZED: ':no_entry_sign: The coordinator did not accept the bot',
  FORBIDDEN: ':no_entry_sign: Not allowed',
  NOT_FOUND: ':mag: Not found',
  CONFLICT: ':warning: Already so',
  FINAL_STATE: ':warning: Already finished',
  NOT_DEPLOYABLE: ':no_entry: Not deployable',
  LOCKED: ':lock: Locked',
  FROZEN: ':snowflake: Deploys are frozen',
  CHECK_FAILED: ':x: The pre-deploy check failed',
  CLAIM_LOST: ':warning: Taken over by another worker',
  CANCELLED: ':warning: Cancelled',
  CONFIG_INVALID: ':rotating_light: The coordinator is misconfigured',
  DATABASE_UNAVAILABLE: ":rotating_light: The coordinator's database is down",
  DATABASE_TOO_NEW: ':rotating_light: The coordinator is older than its database',
  INTERNAL: ':x: Something broke',
  DIGEST_MISMATCH: ':rotating_light: Stored bytes do not match',
  STORAGE_UNAVAILABLE: ':rotating_light: Storage is unavailable',
  DISK_FULL: ':rotating_light: A disk is full',
  COORDINATOR_UNREACHABLE: ':rotating_light: The bot cannot reach the coordinator',
  SLACK_UNAVAILABLE: ':rotating_light: Slack did not answer the bot',
  NATS_UNAVAILABLE: ':rotating_light: Goal state (NATS) is unavailable',
  GOAL_CONFLICT: ':warning: Someone else changed the goal at the same moment',
  GOAL_INVALID: ':rotating_light: A stored goal is malformed',
  GOAL_SIGNATURE_INVALID: ':rotating_light: A goal with a bad or unknown signature was refused',
  GOAL_REPLAYED: ':rotating_light: An old goal was replayed and refused',
  TIMED_OUT: ':hourglass: Still under way',
  BUSY: ':hourglass: Busy elsewhere',
  HEALTH_CHECK_FAILED: ':rotating_light: The new build failed its health check',
  PREREQUISITE_MISSING: ':rotating_light: A program fleetcast needs is missing',
  PEERS_UNAVAILABLE: ':hourglass: No peer served the build (fetching from the bucket)',
  METRICS_UNAVAILABLE: ':hourglass: Prometheus did not answer the metric gate',
  METRICS_QUERY_INVALID: ':warning: Prometheus refused the metric gate query',
  SERVICE_IN_USE: ':no_entry: Machines still run the service',
} as const satisfies Record<ErrorCode, string>;

export function headline(code: ErrorCode): string {
  return headlines[code];
}

// Mentions the bot itself wrote (who may deploy) stay mentions; anything else is shown as text.
const mentionPattern = /(<@[UW][A-Z0-9]+>|<!subteam\^S[A-Z0-9]+>)/;

function keepMentions(text: string): string {
  return text
    .split(mentionPattern)
    .map((part, index) => (index % 2 === 1 ? part : escape(part)))
    .join('');
}

/**
 * An error as a message for the person who asked (sent ephemeral): the code's headline, the
 * message (which says what to do), and for NOT_DEPLOYABLE the missing copies (`details.copies`)
 * with their progress, for LOCKED who locked it, why and how to unlock.
 */
export function refusalMessage(error: unknown): SlackMessage {
  const err = error instanceof FleetcastError ? error : new FleetcastError('INTERNAL', `unexpected error: ${(error as Error)?.message ?? String(error)}; the bot logged it`);
  const title = headline(err.code);
  const blocks: SlackMessage['blocks'] = [section(`*${title}*\n${keepMentions(err.message)}`)];
  const copies = err.details.copies as NonNullable<BuildInfo['replication']> | undefined;
  if (err.code === 'NOT_DEPLOYABLE' && Array.isArray(copies) && copies.length > 0) blocks.push(section(copies.map(replicationLine).join('\n')));
  if (err.code === 'LOCKED' && typeof err.details.service === 'string') blocks.push(context(`\`/unlock ${err.details.service}\` allows deploys again, once it is safe`));
  return { text: `${title}: ${err.message}`, blocks };
}
