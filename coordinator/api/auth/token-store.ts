import { createHash, timingSafeEqual } from 'node:crypto';
import { FleetcastError } from '../../../errors/index.ts';
import type { Scope } from './scopes.ts';

export interface ApiToken {
  /** Who holds the token; recorded as requestedBy / cancelledBy of what it does. */
  name: string;
  token: string;
  scopes: Scope[];
  /** The holder relays requests of people (the Slack bot) and may name them in x-fleetcast-on-behalf-of. @defaultValue false */
  actAs?: boolean;
}

/** Who a request acts as: the holder of a token the API accepted, or the person it acts for. */
export interface Principal {
  /** Recorded as requestedBy / actor: the token's name, or the person a relay acts for (`slack:alice`). */
  name: string;
  scopes: readonly Scope[];
  /** The token may act on behalf of others (ApiToken.actAs). */
  actAs: boolean;
  /** Set when a relay acts for someone: the relaying token, and the person's stable id (`slack:U0123ABCD`). */
  onBehalf?: { token: string; id: string };
}

interface Entry extends Principal {
  digest: Buffer;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * The tokens the API accepts. Tokens are kept and compared as sha256 digests: hashing first
 * gives equal-length buffers for timingSafeEqual whatever was presented, and every entry is
 * compared, so the time taken says nothing about how much of a token was right.
 */
export class TokenStore {
  private readonly entries: Entry[] = [];

  constructor(tokens: readonly ApiToken[]) {
    for (const token of tokens) {
      if (this.entries.some((entry) => entry.name === token.name)) {
        throw new FleetcastError('CONFIG_INVALID', `two API tokens are named "${token.name}"; give each token its own name`, { name: token.name });
      }
      const digest = sha256(token.token);
      if (this.entries.some((entry) => timingSafeEqual(entry.digest, digest))) {
        throw new FleetcastError('CONFIG_INVALID', `API token "${token.name}" is the same secret as another token; give each holder its own`, {
          name: token.name,
        });
      }
      this.entries.push({ name: token.name, scopes: [...token.scopes], actAs: token.actAs === true, digest });
    }
  }

  find(presented: string): Principal | null {
    const digest = sha256(presented);
    let found: Entry | null = null;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, digest)) found = entry;
    }
    return found === null ? null : { name: found.name, scopes: found.scopes, actAs: found.actAs };
  }

  get size(): number {
    return this.entries.length;
  }
}
