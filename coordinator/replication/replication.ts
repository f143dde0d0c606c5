import { fromSqlTime, type ReplicationStatus } from '../../entities/index.ts';
import type { JobTable } from '../../queue/index.ts';
import { toJobFields, type JobFields } from '../../queue/job-fields.ts';

export type { ReplicationStatus };

/** One copy of a build's artifact into one region's bucket. */
export interface Replication extends JobFields<ReplicationStatus> {
  buildId: number;
  region: string;
  objectName: string;
  /** What the copy must have: the build's sha256 and size. */
  digest: string;
  size: number;
  availableAt: Date | null;
  /** Why the last attempt failed, or why a DONE copy went back to PENDING. */
  error: string | null;
  bytesCopied: number;
  /** The sha256 read back from the regional bucket when the copy was verified. */
  verifiedDigest: string | null;
  auditedAt: Date | null;
  /** Set when retention deleted the regional object: the row stays, as history. */
  removedAt: Date | null;
}

export interface CopyResult {
  verifiedDigest: string;
  bytes: number;
}

export const replicationsTable: JobTable = {
  table: 'replications',
  queued: 'PENDING',
  running: 'COPYING',
  succeeded: 'DONE',
  failed: 'FAILED',
  partitionColumn: 'region',
  availableColumn: 'available_at',
  formatId: (id) => `r${id}`,
};

export function toReplication(row: Record<string, unknown>): Replication {
  return {
    ...toJobFields<ReplicationStatus>(row),
    buildId: Number(row.build_id),
    region: String(row.region),
    objectName: String(row.object_name),
    digest: String(row.digest),
    size: Number(row.size),
    availableAt: fromSqlTime(row.available_at),
    error: (row.failure_reason as string | null) ?? null,
    bytesCopied: Number(row.bytes_copied),
    verifiedDigest: (row.verified_digest as string | null) ?? null,
    auditedAt: fromSqlTime(row.audited_at),
    removedAt: fromSqlTime(row.removed_at),
  };
}
