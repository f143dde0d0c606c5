import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type AuditResult = 'ok' | 'refused' | 'error';

/** One state-changing request (deploy, rollback, lock, unlock) and how it ended. Never deleted. */
@Entity({ name: 'audit' })
@Index('idx_audit_target', ['target', 'id'])
export class AuditEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'datetime', precision: 3 })
  at!: Date;

  @Column({ type: 'varchar', length: 200 })
  actor!: string;

  @Column({ type: 'varchar', length: 32 })
  action!: string;

  @Column({ type: 'varchar', length: 255 })
  target!: string;

  @Column({ type: 'varchar', length: 16 })
  result!: AuditResult;

  /** JSON: the request and the outcome (deployment id, error code and message). */
  @Column({ type: 'text' })
  detail!: string;
}
