import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A deployable service: where its code lives and how to build and run it. */
@Entity({ name: 'services' })
export class ServiceEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  name!: string;

  @Column({ type: 'varchar', length: 1024 })
  repo!: string;

  @Column({ type: 'varchar', length: 255, default: 'main' })
  branch!: string;

  @Column({ name: 'build_command', type: 'text' })
  buildCommand!: string;

  @Column({ name: 'artifact_path', type: 'varchar', length: 1024 })
  artifactPath!: string;

  @Column({ name: 'run_command', type: 'text', nullable: true })
  runCommand!: string | null;

  /** Checked by agents after a switch (2xx = healthy). */
  @Column({ name: 'health_url', type: 'varchar', length: 2000, nullable: true })
  healthUrl!: string | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt!: Date;
}
