import crypto from 'node:crypto';
import { FleetcastError } from '../../../errors/index.ts';
import { authenticate } from './authenticate.ts';
import type { Principal, TokenStore } from './token-store.ts';

/** The cookie a browser holds after signing in to the dashboard: a random session id, nothing else. */
export const sessionCookie = 'fleetcast_session';
/** The header a signed-in browser sends with every change: the session's CSRF token (synchronizer token). */
export const csrfHeader = 'x-csrf-token';

interface Session {
  /** The API token signed in with: re-checked on every request, so a token removed from the permissions file ends its sessions. */
  token: string;
  csrf: string;
  lastUsedMs: number;
}

export interface SessionStoreOptions {
  /** A session unused for this long is gone. @defaultValue 12 h (FLEETCAST_DASHBOARD_SESSION_TTL) */
  ttlMs: number;
  /** Oldest sessions are dropped past this many (a flood of sign-ins cannot grow memory). @defaultValue 10_000 */
  maxSessions?: number;
  now?: () => number;
}

/**
 * Dashboard sign-ins: an API token exchanged once for a session id (the cookie) and a CSRF
 * token. Held in this coordinator's memory only: a restart, or another coordinator behind the
 * same name, asks the browser to sign in again. The session carries the token's scopes and
 * services because each request resolves the token again through the TokenStore.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly tokens: TokenStore,
    private readonly options: SessionStoreOptions,
  ) {}

  /** Checks the token (UNAUTHORIZED if unknown) and opens a session for it. */
  create(presented: string): { id: string; csrf: string; principal: Principal } {
    const principal = authenticate(this.tokens, presented);
    this.expire();
    const max = this.options.maxSessions ?? 10_000;
    while (this.sessions.size >= max) this.sessions.delete(this.sessions.keys().next().value!);
    const id = crypto.randomBytes(32).toString('base64url');
    const csrf = crypto.randomBytes(32).toString('base64url');
    this.sessions.set(id, { token: presented, csrf, lastUsedMs: this.now() });
    return { id, csrf, principal };
  }

  /** The principal of a session id and its CSRF token; UNAUTHORIZED when it expired, was signed out or its token is gone. */
  resolve(id: string): { principal: Principal; csrf: string } {
    const session = this.sessions.get(id);
    const principal = session && this.now() - session.lastUsedMs <= this.options.ttlMs ? this.tokens.find(session.token) : null;
    if (!session || principal === null) {
      this.sessions.delete(id);
      throw new FleetcastError('UNAUTHORIZED', 'the dashboard session expired or was signed out; sign in again with an API token');
    }
    // Kept in insertion order by last use: the oldest are first when the store is full.
    this.sessions.delete(id);
    this.sessions.set(id, { ...session, lastUsedMs: this.now() });
    return { principal, csrf: session.csrf };
  }

  /** Throws FORBIDDEN unless `presented` is the session's CSRF token (compared in constant time). */
  requireCsrf(expected: string, presented: string | string[] | undefined): void {
    const given = Buffer.from(typeof presented === 'string' ? presented : '');
    const wanted = Buffer.from(expected);
    if (given.length === wanted.length && crypto.timingSafeEqual(given, wanted)) return;
    throw new FleetcastError('FORBIDDEN', `a change from a signed-in browser needs the session's CSRF token in the ${csrfHeader} header; reload the dashboard and try again`, {
      header: csrfHeader,
    });
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  private expire(): void {
    const now = this.now();
    for (const [id, session] of this.sessions) {
      if (now - session.lastUsedMs <= this.options.ttlMs) break;
      this.sessions.delete(id);
    }
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

/** The session id in a Cookie header, if any. */
export function sessionIdOf(cookieHeader: string | undefined): string | null {
  for (const part of (cookieHeader ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === sessionCookie && value.length > 0) return value.join('=');
  }
  return null;
}
