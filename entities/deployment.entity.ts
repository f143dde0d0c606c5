import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const deploymentStatuses = ['WRITING', 'ROLLING', 'APPLIED', 'FAILED', 'HALTED', 'SUPERSEDED'] as const;
export type DeploymentStatus = (typeof deploymentStatuses)[number];
export type DeploymentKind = 'deploy' | 'rollback';

/**
 * One deploy or rollback of a service (shown `d<id>`): which build, into which regions and
 * waves, who asked, how far its rollout got. Its SQL lives in coordinator/deploys/.
 */
@Entity({ name: 'deployments' })
@Index('idx_deployments_service', ['service', 'id'])
export class DeploymentEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'varchar', length: 64 })
  service!: string;

  @Column({ name: 'build_id', type: 'bigint' })
  buildId!: string;

  /** Comma-separated region names. */
  @Column({ type: 'text' })
  regions!: string;

  @Column({ type: 'varchar', length: 16 })
  kind!: DeploymentKind;

  @Column({ name: 'requested_by', type: 'varchar', length: 200 })
  requestedBy!: string;

  @Column({ type: 'text' })
  reason!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: DeploymentStatus;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  /** The waves as JSON (coordinator/deploys/waves.ts); null for deployments made before waves. */
  @Column({ type: 'text', nullable: true })
  waves!: string | null;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 200, nullable: true, unique: true })
  idempotencyKey!: string | null;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3, nullable: true })
  updatedAt!: Date | null;

  @Column({ name: 'converged_at', type: 'datetime', precision: 3, nullable: true })
  convergedAt!: Date | null;
}
