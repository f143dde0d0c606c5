/** The person behind a command or a click, as Slack names them. */
export interface SlackUser {
  /** `U0123ABCD` (or `W…` in Enterprise Grid): stable, what permissions name. */
  id: string;
  /** The handle (`alice`), readable in history; it can change, the id cannot. */
  name: string;
}

// The coordinator's grammar for names (coordinator/api/auth/on-behalf-of.ts): a handle with
// other characters is sent without the name, and history shows the id instead.
const nameForHistory = /^[A-Za-z0-9._-]{1,80}$/;

/** The x-fleetcast-on-behalf-of value: the coordinator records the person as `slack:alice`. */
export function onBehalfOf(user: SlackUser): string {
  return nameForHistory.test(user.name) ? `slack:${user.id} (${user.name})` : `slack:${user.id}`;
}

/** How the coordinator records the person (requestedBy, lockedBy, audit actor). */
export function historyName(user: SlackUser): string {
  return nameForHistory.test(user.name) ? `slack:${user.name}` : `slack:${user.id}`;
}

/** A mention Slack renders as the person's name. */
export function mention(userId: string): string {
  return `<@${userId}>`;
}
