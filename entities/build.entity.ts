import { Column, Entity, Index } from 'typeorm';
import { JobColumns } from './job-columns.ts';

export const buildStatuses = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const;
export type BuildStatus = (typeof buildStatuses)[number];

/**
 * One build: a row of the durable FIFO queue while QUEUED or RUNNING, and history forever
 * after. The queue's SQL lives in coordinator/queue/sql/, one module per operation.
 */
@Entity({ name: 'builds' })
@Index('idx_builds_claim', ['status', 'createdAt', 'id'])
@Index('idx_builds_heartbeat', ['status', 'lastHeartbeat'])
@Index('idx_builds_service', ['service', 'id'])
export class BuildEntity extends JobColumns<BuildStatus> {
  @Column({ type: 'varchar', length: 64 })
  service!: string;

  @Column({ name: 'commit_sha', type: 'varchar', length: 64 })
  commitSha!: string;

  /** The service's artifact path when the build was queued, kept with the history. */
  @Column({ type: 'varchar', length: 1024 })
  artifact!: string;

  /** sha256 of the artifact, lower-case hex. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  digest!: string | null;

  @Column({ type: 'bigint', nullable: true })
  size!: string | null;

  @Column({ name: 'requested_by', type: 'varchar', length: 255, nullable: true })
  requestedBy!: string | null;

  @Column({ name: 'cancelled_by', type: 'varchar', length: 255, nullable: true })
  cancelledBy!: string | null;

  /** `Name <email>` of the commit's author, recorded by the builder from the checkout. */
  @Column({ name: 'commit_author', type: 'varchar', length: 255, nullable: true })
  commitAuthor!: string | null;

  /** The first line of the commit message. */
  @Column({ name: 'commit_subject', type: 'varchar', length: 500, nullable: true })
  commitSubject!: string | null;
}
