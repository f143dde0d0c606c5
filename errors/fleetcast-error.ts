/**
 * The one error type of fleetcast. Every failure a person can meet carries a stable code and a
 * message that says what went wrong and what to do; the HTTP status, the CLI exit code and the
 * Slack wording are all derived from the code, never chosen at the throw site.
 */
export const errorCodes = {
  INVALID_INPUT: { httpStatus: 400, exitCode: 2 },
  UNAUTHORIZED: { httpStatus: 401, exitCode: 3 },
  FORBIDDEN: { httpStatus: 403, exitCode: 3 },
  NOT_FOUND: { httpStatus: 404, exitCode: 1 },
  CONFLICT: { httpStatus: 409, exitCode: 1 },
  FINAL_STATE: { httpStatus: 409, exitCode: 1 },
  NOT_DEPLOYABLE: { httpStatus: 409, exitCode: 3 },
  LOCKED: { httpStatus: 423, exitCode: 3 },
  /** A deploy inside a freeze window (named); an admin may override it with a reason. Rollbacks are never frozen. */
  FROZEN: { httpStatus: 423, exitCode: 3 },
  /** The service's pre-deploy check (a command or an HTTP URL) failed; its output is in the message. */
  CHECK_FAILED: { httpStatus: 412, exitCode: 3 },
  CLAIM_LOST: { httpStatus: 409, exitCode: 1 },
  CANCELLED: { httpStatus: 409, exitCode: 1 },
  CONFIG_INVALID: { httpStatus: 500, exitCode: 2 },
  DATABASE_UNAVAILABLE: { httpStatus: 503, exitCode: 1 },
  DATABASE_TOO_NEW: { httpStatus: 500, exitCode: 1 },
  INTERNAL: { httpStatus: 500, exitCode: 1 },
  /** Stored bytes differ from the digest or size they were written or expected with. */
  DIGEST_MISMATCH: { httpStatus: 422, exitCode: 1 },
  /** The blob store (GCS) kept failing after retries; trying again later may work. */
  STORAGE_UNAVAILABLE: { httpStatus: 503, exitCode: 1 },
  /** The filesystem holding a blob store is full (ENOSPC) or over quota. */
  DISK_FULL: { httpStatus: 507, exitCode: 1 },
  /** A client (CLI, bot) could not connect to the coordinator's HTTP API at all. */
  COORDINATOR_UNREACHABLE: { httpStatus: 503, exitCode: 1 },
  /** Slack's Web API could not be reached, or refused the bot's token. */
  SLACK_UNAVAILABLE: { httpStatus: 503, exitCode: 1 },
  /** A NATS server (the hub, or a region's leaf) could not be reached or did not answer in time. */
  NATS_UNAVAILABLE: { httpStatus: 503, exitCode: 1 },
  /** A compare-and-set write of goal state lost: the key changed since it was read. */
  GOAL_CONFLICT: { httpStatus: 409, exitCode: 1 },
  /** A goal-state or status document stored in NATS is malformed or of an unknown version. */
  GOAL_INVALID: { httpStatus: 502, exitCode: 1 },
  /** A goal document is unsigned, signed by a key the reader does not trust, or changed since it was signed: it is refused. */
  GOAL_SIGNATURE_INVALID: { httpStatus: 502, exitCode: 1 },
  /** A validly signed goal whose sequence is not above the one the reader already applied (an old goal replayed): it is refused. */
  GOAL_REPLAYED: { httpStatus: 502, exitCode: 1 },
  /** A new build did not stay up or its health URL did not answer 2xx after the switch; the agent went back to the previous build. */
  HEALTH_CHECK_FAILED: { httpStatus: 502, exitCode: 1 },
  /** A directory is in use by another live process (two agents on one agent dir). */
  BUSY: { httpStatus: 409, exitCode: 1 },
  /** A client waited (deploy --wait) longer than its time limit; the operation itself goes on. */
  TIMED_OUT: { httpStatus: 504, exitCode: 1 },
  /** A program fleetcast runs (nats-server, git) is not installed on this machine. */
  PREREQUISITE_MISSING: { httpStatus: 500, exitCode: 1 },
  /**
   * No peer of the region served a build's blocks in time, or the build has no P2P core: the
   * agent fetches it from the regional bucket instead.
   */
  PEERS_UNAVAILABLE: { httpStatus: 503, exitCode: 1 },
  /** Prometheus (FLEETCAST_PROMETHEUS_URL) could not be reached, or answered with a server error, for a metric gate. */
  METRICS_UNAVAILABLE: { httpStatus: 503, exitCode: 1 },
  /** Prometheus refused a metric gate's query (bad PromQL, or an answer that is not one number per series): it will not pass as written. */
  METRICS_QUERY_INVALID: { httpStatus: 422, exitCode: 1 },
  /** A service cannot be removed while machines run it (or while a region's machines cannot be counted); --force removes it anyway. */
  SERVICE_IN_USE: { httpStatus: 409, exitCode: 3 },
} as const satisfies Record<string, { httpStatus: number; exitCode: number }>;

export type ErrorCode = keyof typeof errorCodes;

export class FleetcastError extends Error {
  override readonly name = 'FleetcastError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get httpStatus(): number {
    return errorCodes[this.code].httpStatus;
  }

  get exitCode(): number {
    return errorCodes[this.code].exitCode;
  }

  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isFleetcastError(err: unknown, code?: ErrorCode): err is FleetcastError {
  return err instanceof FleetcastError && (code === undefined || err.code === code);
}
