import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { SqlRunner } from '../../entities/index.ts';
import * as sql from './sql/lease-sql.ts';

export interface LeasesOptions {
  /** How long a lease lasts without renewal (FLEETCAST_ROLLOUT_LEASE): a dead holder is replaced after this. @defaultValue 10 s */
  ttlMs?: number;
  /** This coordinator's name in the table. @defaultValue host:pid:random */
  holder?: string;
}

/** A new coordinator's holder name: the host and pid say which process, the random part tells restarts apart. */
export function newHolderName(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/**
 * Leases in SQL shared by every coordinator on one database: who steps a rollout
 * (`rollout:d12`), who is starting or writing a rollout of a service (`service:web`). A lease
 * runs out `ttlMs` after it was last taken or renewed, in the database's clock, so a coordinator
 * killed with -9 is replaced within that time.
 */
export class Leases {
  readonly holder: string;
  readonly ttlMs: number;

  constructor(
    private readonly db: SqlRunner,
    options: LeasesOptions = {},
  ) {
    this.holder = options.holder ?? newHolderName();
    this.ttlMs = options.ttlMs ?? 10_000;
  }

  /** Takes the lease if it is free or expired, renews it if this coordinator has it; false while another has it. */
  async acquire(name: string): Promise<boolean> {
    if (await sql.insertLeaseIfAbsent(this.db, name, this.holder, this.ttlMs)) return true;
    return sql.renewOrTakeExpiredLease(this.db, name, this.holder, this.ttlMs);
  }

  /** Renews the lease if this coordinator still has it: false means another took it over, and nothing may be written. */
  async stillHeld(name: string): Promise<boolean> {
    return sql.renewHeldLease(this.db, name, this.holder, this.ttlMs);
  }

  /** Takes the lease from whoever has it (a person's abort of a rollout another coordinator steps). */
  async takeOver(name: string): Promise<void> {
    await sql.takeLease(this.db, name, this.holder, this.ttlMs);
  }

  async release(name: string): Promise<void> {
    await sql.deleteLease(this.db, name, this.holder);
  }

  /** Forgets leases expired for a minute: a superseded rollout's is never let go by its holder. */
  async forgetExpired(): Promise<void> {
    await sql.deleteExpiredLeases(this.db, 60_000);
  }

  async holderOf(name: string): Promise<string | null> {
    return sql.selectLeaseHolder(this.db, name);
  }
}

export const rolloutLease = (deploymentId: string): string => `rollout:${deploymentId}`;
export const serviceLease = (service: string): string => `service:${service}`;
