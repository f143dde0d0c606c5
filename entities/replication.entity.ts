import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

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
export class ReplicationEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

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

  @Column({ type: 'varchar', length: 16 })
  status!: ReplicationStatus;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'available_at', type: 'datetime', precision: 3, nullable: true })
  availableAt!: Date | null;

  @Column({ name: 'started_at', type: 'datetime', precision: 3, nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'finished_at', type: 'datetime', precision: 3, nullable: true })
  finishedAt!: Date | null;

  @Column({ type: 'int', default: 0 })
  attempts!: number;

  @Column({ name: 'max_attempts', type: 'int' })
  maxAttempts!: number;

  @Column({ name: 'claimed_by', type: 'varchar', length: 255, nullable: true })
  claimedBy!: string | null;

  @Column({ name: 'claim_token', type: 'varchar', length: 36, nullable: true })
  claimToken!: string | null;

  @Column({ name: 'last_heartbeat', type: 'datetime', precision: 3, nullable: true })
  lastHeartbeat!: Date | null;

  @Column({ name: 'failure_reason', type: 'text', nullable: true })
  failureReason!: string | null;

  @Column({ name: 'bytes_copied', type: 'bigint', default: 0 })
  bytesCopied!: string;

  @Column({ name: 'verified_digest', type: 'varchar', length: 64, nullable: true })
  verifiedDigest!: string | null;

  @Column({ name: 'audited_at', type: 'datetime', precision: 3, nullable: true })
  auditedAt!: Date | null;

  @Column({ name: 'removed_at', type: 'datetime', precision: 3, nullable: true })
  removedAt!: Date | null;
}
