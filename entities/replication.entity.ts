import { Column, Entity, Index } from 'typeorm';
import { JobColumns } from './job-columns.ts';

export const replicationStatuses = ['PENDING', 'COPYING', 'DONE', 'FAILED'] as const;
export type ReplicationStatus = (typeof replicationStatuses)[number];

/**
 * One copy of a build's artifact from the main bucket to one region's bucket: a job of the
 * replication queue while PENDING or COPYING, and the record of where a build is afterwards.
 * Its SQL lives in coordinator/replication/sql/ and the shared queue machinery.
 */
@Entity({ name: 'replications' })
@Index('uq_replications_build_region', ['buildId', 'region'], { unique: true })
@Index('idx_replications_claim', ['status', 'region', 'createdAt', 'id'])
@Index('idx_replications_heartbeat', ['status', 'lastHeartbeat'])
@Index('idx_replications_audit', ['status', 'auditedAt'])
export class ReplicationEntity extends JobColumns<ReplicationStatus> {
  @Column({ name: 'build_id', type: 'bigint' })
  buildId!: string;

  @Column({ type: 'varchar', length: 64 })
  region!: string;

  @Column({ name: 'object_name', type: 'varchar', length: 1024 })
  objectName!: string;

  @Column({ type: 'varchar', length: 64 })
  digest!: string;

  @Column({ type: 'bigint' })
  size!: string;

  @Column({ name: 'available_at', type: 'datetime', precision: 3, nullable: true })
  availableAt!: Date | null;

  @Column({ name: 'bytes_copied', type: 'bigint', default: 0 })
  bytesCopied!: string;

  @Column({ name: 'verified_digest', type: 'varchar', length: 64, nullable: true })
  verifiedDigest!: string | null;

  @Column({ name: 'audited_at', type: 'datetime', precision: 3, nullable: true })
  auditedAt!: Date | null;

  @Column({ name: 'removed_at', type: 'datetime', precision: 3, nullable: true })
  removedAt!: Date | null;
}
