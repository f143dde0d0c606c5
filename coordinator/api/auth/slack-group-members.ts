import type { Logger } from '../../../logging/index.ts';

/** How long a group's members are trusted before Slack is asked again: someone added to on-call can act a minute later. */
const ttlMs = 60_000;
const timeoutMs = 5_000;

/**
 * Members of Slack user groups (usergroups.users.list, scope usergroups:read), read by the
 * coordinator itself with the bot's Slack token: group grants are then checked against Slack,
 * not against anything the relay says. A failed lookup is not cached and counts as "not a
 * member" (the check fails closed).
 */
export class SlackGroupMembers {
  private readonly cache = new Map<string, { at: number; members: Promise<ReadonlySet<string>> }>();

  constructor(
    private readonly apiUrl: string,
    private readonly botToken: string,
    private readonly logger: Logger,
  ) {}

  members(group: string): Promise<ReadonlySet<string>> {
    const cached = this.cache.get(group);
    if (cached && Date.now() - cached.at < ttlMs) return cached.members;
    const members = this.fetch(group);
    this.cache.set(group, { at: Date.now(), members });
    return members;
  }

  private async fetch(group: string): Promise<ReadonlySet<string>> {
    try {
      const response = await fetch(`${this.apiUrl}usergroups.users.list`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.botToken}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ usergroup: group }).toString(),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const reply = (await response.json()) as { ok?: boolean; users?: string[]; error?: string };
      if (reply.ok !== true) throw new Error(reply.error ?? `HTTP ${response.status}`);
      return new Set(reply.users ?? []);
    } catch (err) {
      this.cache.delete(group);
      this.logger.warn({ group, err }, 'could not read the members of a Slack user group: its grants count for nobody until it can');
      return new Set();
    }
  }
}
