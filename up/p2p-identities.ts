import fs from 'node:fs';
import path from 'node:path';
import { createSigningKeyFiles, issueP2PIdentity, readSigningKey } from '../trust/index.ts';

/** How long identities made by `fleetcast up` last. */
const lifetimeMs = 365 * 24 * 3_600_000;

/**
 * The P2P identities of a local installation: a P2P CA key made once in the data dir
 * (`p2p-ca.key`, 0600, and `p2p-ca.pub`), and for each agent and seeder an identity file it
 * signed (`identities/<name>.json`, 0600). Returns the settings that give a process its identity
 * and bind its P2P sockets to 127.0.0.1 on a free port.
 */
export function p2pIdentityEnv(dir: string, who: { role: 'agent' | 'seeder'; region: string; name: string; machine: string | null }): Record<string, string> {
  const keyFile = path.join(dir, 'p2p-ca.key');
  const publicFile = path.join(dir, 'p2p-ca.pub');
  if (!fs.existsSync(keyFile)) createSigningKeyFiles(keyFile, publicFile);
  const file = path.join(dir, 'identities', `${who.name}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const identity = issueP2PIdentity({ role: who.role, region: who.region, machine: who.machine, notAfter: new Date(Date.now() + lifetimeMs) }, readSigningKey(keyFile, 'the P2P CA key'));
  fs.writeFileSync(file, JSON.stringify(identity, null, 2), { mode: 0o600 });
  return { FLEETCAST_P2P_IDENTITY: file, FLEETCAST_P2P_CA_KEYS: publicFile, FLEETCAST_P2P_HOST: '127.0.0.1', FLEETCAST_P2P_PORT: '0' };
}
