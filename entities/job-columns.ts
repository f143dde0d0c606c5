import { Column, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The columns the queue machinery (coordinator/queue/sql/) reads and writes, shared by every
 * table of jobs: builds and replications. Not an entity itself: each job entity extends it
 * and gets these columns in its own table.
 */
export abstract class JobColumns<Status extends string> {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: Status;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

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
}
