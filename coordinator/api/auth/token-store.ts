import { timingSafeEqual } from 'node:crypto';
import { tokenSha256 } from '../../../api-contract/index.ts';
import { FleetcastError } from '../../../errors/index.ts';
import type { Scope } from './scopes.ts';

export interface ApiToken {
  /** Who holds the token; recorded as requestedBy / cancelledBy of what it does. */
  name: string;
  /** The token itself; or give `sha256`. */
  token?: string | undefined;
  /** The token's sha256, hex: the file then holds nothing a reader could present. */
  sha256?: string | undefined;
  scopes: Scope[];
  /** The services it may touch. @defaultValue all */
  services?: string[] | undefined;
  /** The holder relays requests of people (the Slack bot) and may name them in x-fleetcast-on-behalf-of. @defaultValue false */
  actAs?: boolean | undefined;
}

/** Who a request acts as: the holder of a token the API accepted, or the person it acts for. */
export interface Principal {
  /** Recorded as requestedBy / actor: the token's name, or the person a relay acts for (`slack:alice`). */
  name: string;
  scopes: readonly Scope[];
  /** The services the token may touch; null: all. */
  services: readonly string[] | null;
  /** The token may act on behalf of others (ApiToken.actAs). */
  actAs: boolean;
  /** Set when a relay acts for someone: the relaying token, and the person's stable id (`slack:U0123ABCD`). */
  onBehalf?: { token: string; id: string };
}

interface Entry extends Principal {
  digest: Buffer;
}

/**
 * The tokens the API accepts. Tokens are kept and compared as sha256 digests: the file may
 * hold only the digest, hashing first gives equal-length buffers for timingSafeEqual whatever
 * was presented, and every entry is compared, so the time taken says nothing about how much of
 * a token was right. `replace` swaps the whole set at once (a reload of the permissions file).
 */
export class TokenStore {
  private entries: Entry[];

  constructor(tokens: readonly ApiToken[]) {
    this.entries = TokenStore.entriesOf(tokens);
  }

  /** Takes a new set of tokens; a set with a problem throws and leaves the current one in force. */
  replace(tokens: readonly ApiToken[]): void {
    this.entries = TokenStore.entriesOf(tokens);
  }

  find(presented: string): Principal | null {
    const digest = Buffer.from(tokenSha256(presented), 'hex');
    let found: Entry | null = null;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, digest)) found = entry;
    }
    return found === null ? null : { name: found.name, scopes: found.scopes, services: found.services, actAs: found.actAs };
  }

  get size(): number {
    return this.entries.length;
  }

  private static entriesOf(tokens: readonly ApiToken[]): Entry[] {
    const entries: Entry[] = [];
    for (const token of tokens) {
      if (entries.some((entry) => entry.name === token.name)) {
        throw new FleetcastError('CONFIG_INVALID', `two API tokens are named "${token.name}"; give each token its own name`, { name: token.name });
      }
      const hex = token.sha256 ?? (token.token === undefined ? undefined : tokenSha256(token.token));
      if (hex === undefined) throw new FleetcastError('CONFIG_INVALID', `API token "${token.name}" has neither "sha256" nor "token"`, { name: token.name });
      const digest = Buffer.from(hex.toLowerCase(), 'hex');
      if (entries.some((entry) => timingSafeEqual(entry.digest, digest))) {
        throw new FleetcastError('CONFIG_INVALID', `API token "${token.name}" is the same secret as another token; give each holder its own`, {
          name: token.name,
        });
      }
      entries.push({ name: token.name, scopes: [...token.scopes], services: token.services ? [...token.services] : null, actAs: token.actAs === true, digest });
    }
    return entries;
  }
}
