import { FleetcastError, isFleetcastError } from '../errors/index.ts';
import type { StoreErrors } from './retry-policy.ts';

const retriableStatuses = new Set([408, 429, 500, 502, 503, 504]);
const connectionProblems = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

/** The HTTP status of a client-library error, whichever layer (ApiError, gaxios, fetch) made it. */
export function gcsStatus(err: unknown): number | undefined {
  const e = err as { code?: unknown; status?: unknown; response?: { status?: unknown } } | null;
  for (const value of [e?.code, e?.status, e?.response?.status]) {
    if (typeof value === 'number') return value;
    if (typeof value === 'string' && /^\d{3}$/.test(value)) return Number(value);
  }
  return undefined;
}

/** 408, 429, 5xx and broken connections: worth another try after a wait. */
export function isRetriableGcsError(err: unknown): boolean {
  if (isFleetcastError(err)) return err.code === 'STORAGE_UNAVAILABLE';
  const status = gcsStatus(err);
  if (status !== undefined) return retriableStatuses.has(status);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && connectionProblems.has(code.toUpperCase())) return true;
  const message = String((err as Error | null)?.message ?? '').toLowerCase();
  return message.includes('socket hang up') || message.includes('premature close') || message.includes('econnreset');
}

/** A client-library error as a FleetcastError whose message says what failed and what to do. */
export function gcsError(err: unknown, doing: string, where: { bucket: string; name?: string }, attempts?: number): FleetcastError {
  if (isFleetcastError(err)) return err;
  const status = gcsStatus(err);
  const detail = String((err as Error | null)?.message ?? err).slice(0, 300);
  const details = { ...where, status, attempts };
  const object = where.name === undefined ? `bucket ${where.bucket}` : `${where.bucket}/${where.name}`;
  if (status === 404) {
    const bucketMissing = /bucket/i.test(detail) && !/object/i.test(detail);
    return new FleetcastError(
      'NOT_FOUND',
      bucketMissing ? `GCS bucket ${where.bucket} does not exist (${doing}); create it or check FLEETCAST_BUCKET_PREFIX` : `no object ${object}`,
      details,
      { cause: err },
    );
  }
  if (status === 412 || status === 409) {
    return new FleetcastError('CONFLICT', `${doing} ${object}: it changed meanwhile (${detail}); try again`, details, { cause: err });
  }
  if (status === 401 || status === 403) {
    return new FleetcastError(
      'FORBIDDEN',
      `GCS refused ${doing} ${object} (${status}): give the service account of this process access to the bucket (roles/storage.objectAdmin)`,
      details,
      { cause: err },
    );
  }
  if (isRetriableGcsError(err)) {
    return new FleetcastError(
      'STORAGE_UNAVAILABLE',
      `GCS kept failing while ${doing} ${object} (${detail}) ${attempts === undefined ? 'after retries' : `after ${attempts} ${attempts === 1 ? 'try' : 'tries'}`}; it may be overloaded or unreachable: try again later`,
      details,
      { cause: err },
    );
  }
  return new FleetcastError('INTERNAL', `GCS error while ${doing} ${object}: ${detail}`, details, { cause: err });
}

/** GCS's errors for the shared retry loop and resumable download. */
export const gcsErrors: StoreErrors = { name: 'GCS', isRetriable: isRetriableGcsError, error: gcsError };
