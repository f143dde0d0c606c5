import type { LockJson } from '../fleet/fleet-json.ts';
import { mention } from '../slack/slack-user.ts';
import { escape, section, type SlackMessage } from './blocks.ts';

export function lockLine(lock: LockJson): string {
  return `locked by ${escape(lock.lockedBy)} since ${lock.since}: ${escape(lock.reason)}`;
}

/** Said in the channel: the team should know deploys are stopped, and by whom. */
export function lockedMessage(lock: LockJson, userId: string): SlackMessage {
  return {
    text: `${lock.service} is locked by ${lock.lockedBy}: ${lock.reason}`,
    blocks: [section(`:lock: ${mention(userId)} locked *${lock.service}*: ${escape(lock.reason)}\nDeploys are refused until \`/unlock ${lock.service}\`.`)],
  };
}

export function unlockedMessage(lock: LockJson, userId: string): SlackMessage {
  return {
    text: `${lock.service} is unlocked`,
    blocks: [section(`:unlock: ${mention(userId)} unlocked *${lock.service}* (it was ${lockLine(lock)}). Deploys are allowed again.`)],
  };
}
