import { FleetcastError } from '../../../errors/index.ts';
import { grants, type Scope } from './scopes.ts';
import type { Principal, TokenStore } from './token-store.ts';

const howToGetOne =
  'send "Authorization: Bearer <token>"; on the coordinator\'s machine the admin token is in <data dir>/api-token ' +
  '(the CLI reads it by itself), other tokens are granted in the permissions file (FLEETCAST_PERMISSIONS)';

/** The token of a request: the bearer header, or `?token=` where headers cannot be set (browser WebSockets). */
export function presentedToken(authorization: string | undefined, queryToken?: string | null): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (match) return match[1]!;
  return queryToken || null;
}

export function authenticate(tokens: TokenStore, presented: string | null): Principal {
  if (presented === null) throw new FleetcastError('UNAUTHORIZED', `missing API token: ${howToGetOne}`);
  const principal = tokens.find(presented);
  if (principal === null) throw new FleetcastError('UNAUTHORIZED', `unknown API token: ${howToGetOne}`);
  return principal;
}

export function requireScope(principal: Principal, needed: Scope, action: string): void {
  if (grants(principal.scopes, needed)) return;
  const token = principal.onBehalf?.token ?? principal.name;
  const holder = principal.onBehalf ? `token "${token}" (acting for ${principal.name}; scopes: ` : `token "${token}" (scopes: `;
  throw new FleetcastError(
    'FORBIDDEN',
    `${holder}${principal.scopes.join(', ')}) may not ${action}: that needs scope ${needed}; ` +
      'ask an admin to grant it in the permissions file (FLEETCAST_PERMISSIONS)',
    { token, needed, scopes: principal.scopes },
  );
}
