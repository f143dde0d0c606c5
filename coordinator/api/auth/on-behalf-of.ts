import { onBehalfOfHeader } from '../../../api-contract/index.ts';
import { FleetcastError } from '../../../errors/index.ts';
import type { Principal } from './token-store.ts';

export { onBehalfOfHeader };

// `slack:U0123ABCD (alice)`: a realm, the person's stable id there, and a readable name. The
// name is what history shows (`slack:alice`); the id is kept beside it in the audit row,
// since names can change and ids cannot.
const grammar = /^([a-z][a-z0-9-]{0,15}):([A-Za-z0-9._@-]{1,64})(?: \(([A-Za-z0-9._-]{1,80})\))?$/;

const example = 'slack:U0123ABCD (alice)';

/**
 * The principal a request acts as. Without the header: the token's holder. With it: the person
 * named, recorded as `<realm>:<name>` (or `<realm>:<id>` without a name), with the token's
 * scopes — only a token marked `"actAs": true` in the permissions file may do that.
 */
export function actingPrincipal(token: Principal, header: string | string[] | undefined): Principal {
  if (header === undefined) return token;
  const value = Array.isArray(header) ? header : [header];
  if (!token.actAs) {
    throw new FleetcastError(
      'FORBIDDEN',
      `token "${token.name}" may not act on behalf of others (it sent ${onBehalfOfHeader}: ${value.join(', ').slice(0, 100)}): ` +
        'only a relay such as the Slack bot may, with "actAs": true on its token in the permissions file (FLEETCAST_PERMISSIONS); otherwise drop the header',
      { token: token.name, header: onBehalfOfHeader },
    );
  }
  const match = value.length === 1 ? grammar.exec(value[0]!.trim()) : null;
  if (!match) {
    throw new FleetcastError('INVALID_INPUT', `${onBehalfOfHeader} must be one value like "${example}" (realm:id, then the name in parentheses)`, {
      header: onBehalfOfHeader,
    });
  }
  const [, realm, id, name] = match;
  return { name: `${realm}:${name ?? id}`, scopes: token.scopes, services: token.services, actAs: false, onBehalf: { token: token.name, id: `${realm}:${id}` } };
}

/** Who a state change is recorded as, and the relay that asked for them (DeployService's `by` and `via`). */
export function actorOf(principal: Principal): { by: string; via?: { token: string; id: string } } {
  return principal.onBehalf ? { by: principal.name, via: principal.onBehalf } : { by: principal.name };
}
