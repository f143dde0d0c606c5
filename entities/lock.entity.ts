import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A service nobody may deploy until it is unlocked (set by hand, or by a rollback). */
@Entity({ name: 'locks' })
export class LockEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  service!: string;

  @Column({ name: 'locked_by', type: 'varchar', length: 200 })
  lockedBy!: string;

  @Column({ type: 'text' })
  reason!: string;

  @Column({ type: 'datetime', precision: 3 })
  since!: Date;
}
