import fs from 'node:fs';
import path from 'node:path';
import { NatsIdentityRegistry, natsCredsPublicKey, type IssueRequest } from '../trust/index.ts';

/** Where `fleetcast up` keeps the installation's NATS identities (what `fleetcast creds` uses by default). */
export function natsIdentityRegistry(dir: string): NatsIdentityRegistry {
  return new NatsIdentityRegistry(path.join(dir, 'nats-identities'));
}

/**
 * The creds file of one process of the installation: the identity issued by an earlier `up` in
 * this dir when its file is still there and still the registered key, else a new one (the old
 * one revoked first). Returns the settings that make the process use it.
 */
export function natsCredsEnv(registry: NatsIdentityRegistry, request: Omit<IssueRequest, 'out'>): Record<string, string> {
  const issued = registry.active().find((identity) => identity.role === request.role && identity.region === request.region && identity.machine === (request.machine ?? 'coordinator'));
  if (issued) {
    const file = path.join(registry.dir, 'creds', `${issued.name}.nk`);
    if (fs.existsSync(file) && natsCredsPublicKey(file) === issued.publicKey) return { FLEETCAST_NATS_CREDS: file };
    registry.revoke(request);
  }
  return { FLEETCAST_NATS_CREDS: registry.issue(request).credsFile };
}
