import fs from 'node:fs';
import { FleetcastError } from '../../errors/index.ts';
import { p2pCertificate, p2pIdentitySchema, verifyP2PIdentity, VerifyingKeyring, type P2PCertificate, type P2PIdentity } from '../../trust/index.ts';

/** What a machine needs to be admitted to its region's swarm and to admit others. */
export interface FleetIdentity {
  /** Its Noise static key pair (the identity's keys). */
  keyPair: { publicKey: Buffer; secretKey: Buffer };
  /** What it shows its peers. */
  certificate: P2PCertificate;
  /** The P2P CA keys it trusts. */
  keyring: VerifyingKeyring;
}

/** An identity issued in memory (tests, `fleetcast up`), checked like one read from a file. */
export function fleetIdentity(identity: P2PIdentity, keyring: VerifyingKeyring, region: string): FleetIdentity {
  const check = verifyP2PIdentity(p2pCertificate(identity), keyring);
  if (!check.ok) throw new FleetcastError('CONFIG_INVALID', `FLEETCAST_P2P_IDENTITY: ${check.message}`, { problem: check.problem });
  if (identity.region !== region) {
    throw new FleetcastError('CONFIG_INVALID', `FLEETCAST_P2P_IDENTITY was issued for region ${identity.region}, but this machine is in region ${region} (FLEETCAST_REGION); issue one for ${region}`, { region: identity.region });
  }
  return {
    keyPair: { publicKey: Buffer.from(identity.publicKey, 'hex'), secretKey: Buffer.from(identity.secretKey, 'hex') },
    certificate: check.certificate,
    keyring,
  };
}

/** The machine's identity from FLEETCAST_P2P_IDENTITY and FLEETCAST_P2P_CA_KEYS, checked at start. */
export function loadFleetIdentity(settings: { FLEETCAST_P2P_IDENTITY?: string; FLEETCAST_P2P_CA_KEYS?: string; FLEETCAST_REGION: string }, role: 'agent' | 'seeder'): FleetIdentity {
  const file = settings.FLEETCAST_P2P_IDENTITY;
  const keys = settings.FLEETCAST_P2P_CA_KEYS;
  if (!file || !keys) {
    const missing = [!file && 'FLEETCAST_P2P_IDENTITY', !keys && 'FLEETCAST_P2P_CA_KEYS'].filter(Boolean).join(' and ');
    const off = role === 'agent' ? ', or set FLEETCAST_AGENT_P2P=false to fetch from the regional bucket only' : '';
    throw new FleetcastError('CONFIG_INVALID', `${missing} must be set: only machines with a P2P identity issued by the fleet join a region's swarm (fleetcast creds issue ${role} …)${off}`, {});
  }
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new FleetcastError('CONFIG_INVALID', `FLEETCAST_P2P_IDENTITY: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { file });
  }
  let parsed;
  try {
    parsed = p2pIdentitySchema.safeParse(JSON.parse(text));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) throw new FleetcastError('CONFIG_INVALID', `FLEETCAST_P2P_IDENTITY: ${file} is not a P2P identity file (fleetcast creds issue ${role} writes one)`, { file });
  return fleetIdentity(parsed.data, new VerifyingKeyring(keys, { setting: 'FLEETCAST_P2P_CA_KEYS' }), settings.FLEETCAST_REGION);
}
