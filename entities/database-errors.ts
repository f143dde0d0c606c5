import { FleetcastError } from '../errors/index.ts';

// Errors that say "this server is gone or no longer the primary": with several hosts configured,
// the database then looks for the writable one.
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
  // The server is read_only: a replica, or a primary being demoted in a switchover.
  'ER_OPTION_PREVENTS_STATEMENT',
]);
const connectionLossMessages = [/closed state/i, /connection lost/i, /server has gone away/i];

// Errors that mean "the database is (for now) out of reach or busy", not "your SQL is wrong":
// callers retry these with backoff instead of failing the work. A lost connection is one of them.
const transientCodes = new Set([
  ...connectionLossCodes,
  'ER_CON_COUNT_ERROR',
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_CLIENT_INTERACTION_TIMEOUT',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
]);
const transientMessages = [...connectionLossMessages, /pool is closed/i];

/** Whether the error, or one it wraps (TypeORM's driverError, a cause), matches `matches`. */
function anyInChain(err: unknown, matches: (code: unknown, message: unknown) => boolean): boolean {
  for (let current: unknown = err, depth = 0; current && depth < 4; depth++) {
    const { code, message, driverError, cause } = current as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
    if (matches(code, message)) return true;
    current = driverError ?? cause;
  }
  return false;
}

function matchesOne(codes: Set<string>, messages: RegExp[]): (code: unknown, message: unknown) => boolean {
  return (code, message) => (typeof code === 'string' && codes.has(code)) || (typeof message === 'string' && messages.some((pattern) => pattern.test(message)));
}

export function isConnectionLoss(err: unknown): boolean {
  return anyInChain(err, matchesOne(connectionLossCodes, connectionLossMessages));
}

export function isTransientDatabaseError(err: unknown): boolean {
  return anyInChain(err, matchesOne(transientCodes, transientMessages));
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
  return anyInChain(err, (code) => code === 'ER_DUP_ENTRY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY');
}
