import { FleetcastError } from '../../../errors/index.ts';
import { authenticate, presentedToken } from './authenticate.ts';
import { csrfHeader, sessionIdOf, type SessionStore } from './session-store.ts';
import type { Principal, TokenStore } from './token-store.ts';

export interface PresentedCredentials {
  authorization: string | undefined;
  cookie: string | undefined;
  /** `?token=` of a WebSocket upgrade. */
  queryToken?: string | null;
  /** The CSRF header; checked when `change` is true and the request came with a session. */
  csrf?: string | string[] | undefined;
  change: boolean;
}

/**
 * Who sent a request: a bearer token (CLI, bot, CI: unchanged), else a dashboard session cookie.
 * A change through a session must carry the session's CSRF token: a cookie rides along with any
 * request the browser makes, the header only with those the dashboard's own script sends.
 */
export function requestPrincipal(tokens: TokenStore, sessions: SessionStore, credentials: PresentedCredentials): { principal: Principal; session: boolean } {
  const bearer = presentedToken(credentials.authorization, credentials.queryToken);
  const sessionId = bearer === null ? sessionIdOf(credentials.cookie) : null;
  if (sessionId === null) return { principal: authenticate(tokens, bearer), session: false };
  const { principal, csrf } = sessions.resolve(sessionId);
  if (credentials.change) sessions.requireCsrf(csrf, credentials.csrf);
  return { principal, session: true };
}

/**
 * A WebSocket opened with a session cookie must come from a page of this coordinator: browsers
 * send cookies on cross-site WebSocket handshakes, so the Origin is compared with the Host.
 */
export function requireSameOrigin(origin: string | undefined, host: string | undefined): void {
  let originHost: string | null = null;
  try {
    originHost = origin ? new URL(origin).host : null;
  } catch {
    originHost = null;
  }
  if (originHost !== null && originHost === host) return;
  throw new FleetcastError('FORBIDDEN', `a dashboard session may open the events stream only from the coordinator's own pages (Origin ${origin ?? 'missing'}, Host ${host ?? 'missing'})`, {
    header: csrfHeader,
  });
}
