import { FleetcastError, isFleetcastError } from '../errors/index.ts';

export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Turns a filesystem error met while `doing` something at `file` into a FleetcastError that
 * says what to do. A full disk is the one operators meet in practice: it gets its own code.
 */
export function fsError(err: unknown, file: string, doing: string): FleetcastError {
  if (isFleetcastError(err)) return err;
  const code = errnoCode(err);
  const details = { path: file, errno: code };
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new FleetcastError(
        'DISK_FULL',
        `no space left on the disk holding ${file} while ${doing} (${code}): free space on that disk (old builds, logs) or move FLEETCAST_DATA_DIR to a larger one, then retry`,
        details,
        { cause: err },
      );
    case 'EISDIR':
    case 'ENOTDIR':
    case 'ENOTEMPTY':
    case 'EEXIST':
      return new FleetcastError(
        'CONFLICT',
        `cannot ${doing}: ${file} clashes with another object (one name is a folder of the other, e.g. "a" and "a/b"); choose names that do not nest`,
        details,
        { cause: err },
      );
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new FleetcastError(
        'INTERNAL',
        `permission denied while ${doing} at ${file} (${code}): the blob store directory must be writable by the user running fleetcast`,
        details,
        { cause: err },
      );
    default:
      return new FleetcastError('INTERNAL', `filesystem error while ${doing} at ${file}: ${(err as Error)?.message ?? String(err)}`, details, {
        cause: err,
      });
  }
}
