import { createHash } from 'node:crypto';

/** The sha256 of an API token, hex: what the permissions file's "sha256" holds (`fleetcast token hash` prints it). */
export function tokenSha256(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
