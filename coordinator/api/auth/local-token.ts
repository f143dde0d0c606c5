import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FleetcastError } from '../../../errors/index.ts';
import type { Logger } from '../../../logging/index.ts';
import type { ApiToken } from './token-store.ts';

/** Holder name of the token the coordinator generates for its own data directory. */
export const localAdminName = 'local-admin';

export function localTokenPath(dataDir: string): string {
  return path.join(dataDir, 'api-token');
}

/**
 * The admin token of this installation: read from `<data dir>/api-token`, generated there on
 * first start (32 random bytes, hex, mode 0600). Whoever can read the data directory can run
 * the CLI on this machine without any other setup; that is the point of the file.
 */
export function ensureLocalToken(dataDir: string, logger: Logger): ApiToken & { token: string } {
  const file = localTokenPath(dataDir);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    // 'wx': two coordinators starting on one data dir must not both write a token.
    fs.writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    logger.info({ file }, 'generated the local admin API token');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new FleetcastError('CONFIG_INVALID', `cannot write the API token file ${file}: ${(err as Error).message}; check FLEETCAST_DATA_DIR`, {
        file,
      });
    }
  }
  const token = fs.readFileSync(file, 'utf8').trim();
  if (token.length < 16) {
    throw new FleetcastError('CONFIG_INVALID', `the API token file ${file} holds no usable token; delete it and the coordinator writes a new one`, {
      file,
    });
  }
  return { name: localAdminName, token, scopes: ['admin'] };
}
