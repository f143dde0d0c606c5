import type { webApi } from '@slack/bolt';
import type { Logger } from '../../logging/index.ts';

export interface UsergroupMembersOptions {
  /** How long a group's members are trusted before Slack is asked again. @defaultValue 60_000 */
  ttlMs?: number;
  /** @defaultValue Date.now */
  now?: () => number;
}

/** A lookup of a user group's members; `error` says why it could not be read (the check then fails closed). */
export interface MembersLookup {
  members: ReadonlySet<string>;
  error: string | null;
}

/**
 * Members of Slack user groups (usergroups.users.list, scope usergroups:read), cached briefly:
 * someone added to the on-call group can act a minute later, without a restart.
 */
export class UsergroupMembers {
  private readonly cache = new Map<string, { at: number; lookup: Promise<MembersLookup> }>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly client: webApi.WebClient,
    private readonly logger: Logger,
    options: UsergroupMembersOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  lookup(group: string): Promise<MembersLookup> {
    const cached = this.cache.get(group);
    if (cached && this.now() - cached.at < this.ttlMs) return cached.lookup;
    const lookup = this.fetch(group);
    this.cache.set(group, { at: this.now(), lookup });
    return lookup;
  }

  private async fetch(group: string): Promise<MembersLookup> {
    try {
      const reply = await this.client.usergroups.users.list({ usergroup: group });
      return { members: new Set(reply.users ?? []), error: null };
    } catch (err) {
      // Not cached: the next check asks again instead of refusing for a whole minute.
      this.cache.delete(group);
      const code = (err as { data?: { error?: string } }).data?.error ?? (err as Error).message;
      this.logger.warn({ group, err }, 'could not read the members of a user group');
      return { members: new Set(), error: code };
    }
  }
}
