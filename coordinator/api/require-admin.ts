import { grants } from '../../api-contract/index.ts';
import { FleetcastError } from '../../errors/index.ts';
import type { Principal } from './auth/index.ts';

/**
 * For the parts of a route only an admin may use (overriding a freeze): the admin scope, asked
 * for directly — a relay acting for a person (the Slack bot) never gets them.
 */
export function requireAdmin(principal: Principal, what: string): void {
  if (grants(principal.scopes, 'admin') && !principal.onBehalf) return;
  const name = principal.onBehalf ? `${principal.name} (through ${principal.onBehalf.token})` : `token "${principal.name}"`;
  throw new FleetcastError('FORBIDDEN', `${name} may not ${what}: that needs an admin token used directly`, { actor: principal.name });
}
