import { errnoCode, fsError } from '../../blobstore/index.ts';
import { FleetcastError } from '../../errors/index.ts';

/**
 * A filesystem error while writing a build onto the machine. A full disk gets its own message:
 * on an agent the disk also holds the running service, so what to do is different from a
 * bucket's disk filling up.
 */
export function destinationError(err: unknown, file: string, doing: string): FleetcastError {
  const code = errnoCode(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new FleetcastError(
      'DISK_FULL',
      `no space left on the disk holding ${file} while ${doing} (${code}): free space there (or lower FLEETCAST_AGENT_CACHE_BUILDS); the running build is untouched and the agent tries again`,
      { path: file, errno: code },
      { cause: err },
    );
  }
  return fsError(err, file, doing);
}
