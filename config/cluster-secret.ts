import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FleetcastError } from '../errors/index.ts';

export function clusterSecretPath(dataDir: string): string {
  return path.join(dataDir, 'secret');
}

/**
 * The cluster secret (FLEETCAST_SECRET): the P2P key pair of every build is derived from it, so
 * every seeder of every region signs the identical core, and only holders of the secret
 * (coordinator, seeders — never agents) can sign one. When it is not set, it is read from
 * `<data dir>/secret`, generated there on first use (32 random bytes, hex, mode 0600); a
 * multi-machine installation must give every coordinator and seeder the same value.
 */
export function loadClusterSecret(dataDir: string, configured: string | undefined): string {
  if (configured !== undefined) return configured;
  const file = clusterSecretPath(dataDir);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    // 'wx': roles starting together on one data dir must agree on one secret.
    fs.writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new FleetcastError('CONFIG_INVALID', `cannot write the cluster secret ${file}: ${(err as Error).message}; check FLEETCAST_DATA_DIR or set FLEETCAST_SECRET`, { file });
    }
  }
  const secret = fs.readFileSync(file, 'utf8').trim();
  if (secret.length < 32) {
    throw new FleetcastError('CONFIG_INVALID', `the cluster secret file ${file} holds fewer than 32 characters; set FLEETCAST_SECRET or delete the file to generate one (every seeder must then get the new one)`, { file });
  }
  return secret;
}
