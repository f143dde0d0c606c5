import { setTimeout as sleep } from 'node:timers/promises';
import { FleetcastError, isFleetcastError } from '../../errors/index.ts';
import { serviceLease, type Leases } from './leases.ts';

/** Between two tries of a service's lease held by another coordinator. */
const retryEveryMs = 100;

/**
 * One deploy, rollback or wave write of a service at a time: the goal writes of two requests
 * must not interleave region by region, and two deployments of one service must never both be
 * recorded ROLLING. In this coordinator requests queue; across coordinators (with `leases`) the
 * service's SQL lease is taken too, and a request that cannot have it within `waitMs` is
 * refused with CONFLICT, naming the coordinator that holds it.
 */
export class ServiceMutex {
  private readonly tails = new Map<string, Promise<void>>();

  constructor(private readonly leases: Leases | null = null) {}

  async run<T>(service: string, work: () => Promise<T>, waitMs = 0): Promise<T> {
    const previous = this.tails.get(service) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(service, tail);
    await previous;
    try {
      return this.leases ? await this.underLease(this.leases, service, work, waitMs) : await work();
    } finally {
      release();
      if (this.tails.get(service) === tail) this.tails.delete(service);
    }
  }

  private async underLease<T>(leases: Leases, service: string, work: () => Promise<T>, waitMs: number): Promise<T> {
    const name = serviceLease(service);
    const deadline = Date.now() + waitMs;
    while (!(await this.tryAcquire(leases, name))) {
      if (Date.now() >= deadline) {
        const holder = await leases.holderOf(name);
        throw new FleetcastError(
          'CONFLICT',
          `another coordinator${holder ? ` (${holder})` : ''} is starting or writing a rollout of ${service} right now; this request changed nothing — look at fleetcast status ${service} and try again in a few seconds`,
          { service, holder },
        );
      }
      await sleep(retryEveryMs);
    }
    // Work longer than the lease (a slow goal write) keeps it.
    const renew = setInterval(() => void leases.stillHeld(name).catch(() => undefined), Math.max(50, leases.ttlMs / 3));
    try {
      return await work();
    } finally {
      clearInterval(renew);
      await leases.release(name).catch(() => undefined);
    }
  }

  /** With SQL down there is no lease to take: a rollback from the goal history must still run (the goal's compare-and-set guards it). */
  private async tryAcquire(leases: Leases, name: string): Promise<boolean> {
    try {
      return await leases.acquire(name);
    } catch (err) {
      if (isFleetcastError(err, 'DATABASE_UNAVAILABLE')) return true;
      throw err;
    }
  }
}
