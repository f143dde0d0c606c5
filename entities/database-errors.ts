import { FleetcastError } from '../errors/index.ts';

// Errors that mean "the database is (for now) out of reach or busy", not "your SQL is wrong":
// callers retry these with backoff instead of failing the work.
const transientCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_CONNECTION_KILLED',
  'ER_CLIENT_INTERACTION_TIMEOUT',
  // The server is read_only: a replica, or a primary being demoted in a switchover.
  'ER_OPTION_PREVENTS_STATEMENT',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
]);
const transientMessages = [/closed state/i, /connection lost/i, /server has gone away/i, /pool is closed/i];

// The subset that says "this server is gone or no longer the primary" (not "busy"): with several
// hosts configured, the database then looks for the writable one.
const connectionLossCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'ER_OPTION_PREVENTS_STATEMENT',
]);
const connectionLossMessages = [/closed state/i, /connection lost/i, /server has gone away/i];

export function isConnectionLoss(err: unknown): boolean {
  for (let current: unknown = err, depth = 0; current && depth < 4; depth++) {
    const { code, message, driverError, cause } = current as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
    if (typeof code === 'string' && connectionLossCodes.has(code)) return true;
    if (typeof message === 'string' && connectionLossMessages.some((pattern) => pattern.test(message))) return true;
    current = driverError ?? cause;
  }
  return false;
}

export function isTransientDatabaseError(err: unknown): boolean {
  for (let current: unknown = err, depth = 0; current && depth < 4; depth++) {
    const { code, message, driverError, cause } = current as {
      code?: unknown;
      message?: unknown;
      driverError?: unknown;
      cause?: unknown;
    };
    if (typeof code === 'string' && transientCodes.has(code)) return true;
    if (typeof message === 'string' && transientMessages.some((pattern) => pattern.test(message))) return true;
    current = driverError ?? cause;
  }
  return false;
}

/** Wraps a transient driver error into the coded error callers (and HTTP clients) understand. */
export function toDatabaseError(err: unknown, where: string): unknown {
  if (err instanceof FleetcastError || !isTransientDatabaseError(err)) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new FleetcastError(
    'DATABASE_UNAVAILABLE',
    `the database at ${where} is unavailable (${reason}); fleetcast retries on its own — check that the database server is running`,
    {},
    { cause: err },
  );
}

/** A UNIQUE constraint or primary key refused the row (MariaDB ER_DUP_ENTRY, SQLite SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY). */
export function isUniqueViolation(err: unknown): boolean {
  for (let current: unknown = err, depth = 0; current && depth < 4; depth++) {
    const { code, driverError, cause } = current as { code?: unknown; driverError?: unknown; cause?: unknown };
    if (code === 'ER_DUP_ENTRY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return true;
    current = driverError ?? cause;
  }
  return false;
}
