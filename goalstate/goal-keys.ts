import { FleetcastError } from '../errors/index.ts';
import { SigningKeyFile, VerifyingKeyring } from '../trust/index.ts';

/**
 * The keys a reader of goals trusts (FLEETCAST_GOAL_PUBLIC_KEYS: inline `ed25519:…` keys or files
 * of them, comma-separated, files re-read when they change). There is no unsigned mode: an agent
 * or seeder without it refuses to start, naming the setting. `alsoTrust` adds keys (a
 * coordinator trusts its own signing key's public key).
 */
export function goalKeyring(spec: string | undefined, who: string, alsoTrust: string[] = []): VerifyingKeyring {
  const entries = [spec, ...alsoTrust].filter((entry): entry is string => entry !== undefined && entry.trim() !== '');
  if (entries.length === 0) {
    throw new FleetcastError(
      'CONFIG_INVALID',
      `FLEETCAST_GOAL_PUBLIC_KEYS is not set: ${who} applies only goals the coordinator signed, so it needs the coordinators' goal-signing public key(s) — ed25519:… or a file of them (fleetcast up writes <dir>/goal-signing.pub)`,
      { setting: 'FLEETCAST_GOAL_PUBLIC_KEYS' },
    );
  }
  return new VerifyingKeyring(entries.join(','));
}

/**
 * A coordinator's goal keys: the signing key (FLEETCAST_GOAL_SIGNING_KEY, re-read when the file
 * changes) if it has one, and what its readers trust — FLEETCAST_GOAL_PUBLIC_KEYS plus the
 * signing key's own public key. Without either, it can neither write nor verify goals (status
 * shows every goal as GOAL_SIGNATURE_INVALID, deploys refuse with CONFIG_INVALID).
 */
export function coordinatorGoalKeys(signingKeyFile: string | undefined, publicKeys: string | undefined): { signingKey: SigningKeyFile | undefined; keyring: VerifyingKeyring | undefined } {
  const signingKey = signingKeyFile === undefined ? undefined : new SigningKeyFile(signingKeyFile);
  if (signingKey === undefined && (publicKeys === undefined || publicKeys.trim() === '')) return { signingKey, keyring: undefined };
  return { signingKey, keyring: goalKeyring(publicKeys, 'the coordinator', signingKey ? [signingKey.current().publicKey] : []) };
}
