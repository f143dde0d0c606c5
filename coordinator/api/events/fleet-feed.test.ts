import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../logging/index.ts';
import type { Build } from '../../../queue/index.ts';
import type { ServiceStatus } from '../../deploys/index.ts';
import { FleetFeed, type FleetMessage } from './fleet-feed.ts';

/** Counts every read the feed makes: the database's load, whatever the number of listeners. */
class CountingSources {
  reads = 0;
  lockedBy: string | null = null;
  services = { list: async () => (this.reads++, [{ name: 'api' }, { name: 'web' }] as never[]) };
  deploys = {
    status: async (service: string) => {
      this.reads++;
      const lock = this.lockedBy && service === 'api' ? { service, lockedBy: this.lockedBy, reason: 'incident', since: new Date(0) } : null;
      return { service, lock, regions: [], deployment: null, deployWaves: [['eu']] } as unknown as ServiceStatus;
    },
  };
  queue = { list: async () => (this.reads++, [] as Build[]) };
  replication = { forBuilds: async () => (this.reads++, new Map()) };
}

describe('FleetFeed', () => {
  it('reads the fleet once per round for 500 listeners as for 1, and tells each of them every change', async () => {
    const sources = new CountingSources();
    const feed = new FleetFeed({ ...sources, pollMs: 20, logger: silentLogger() });
    const inboxes: FleetMessage[][] = Array.from({ length: 500 }, () => []);
    const offs = inboxes.map((inbox) => feed.subscribe((m) => inbox.push(m)));
    await expect.poll(() => feed.rounds, { timeout: 5_000 }).toBeGreaterThanOrEqual(3);
    sources.lockedBy = 'alice';
    await expect.poll(() => inboxes.every((inbox) => inbox.some((m) => m.type === 'service-status' && m.status.lock?.lockedBy === 'alice')), { timeout: 5_000 }).toBe(true);
    for (const off of offs) off();
    const rounds = feed.rounds;
    // services.list + one status per service + builds + their replication: 5 reads a round, not 5 × 500.
    expect(sources.reads).toBeLessThanOrEqual(rounds * 5);
    // Unchanged statuses are not sent again: each listener got api and web once, then api's lock.
    expect(inboxes[499]!.map((m) => (m.type === 'service-status' ? `${m.status.service}:${m.status.lock?.lockedBy ?? '-'}` : m.type))).toEqual(['api:-', 'web:-', 'api:alice']);
    // Nobody listens: the reader stopped.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(feed.rounds).toBe(rounds);
  });

  it('gives a late listener what is known at once', async () => {
    const sources = new CountingSources();
    const feed = new FleetFeed({ ...sources, pollMs: 20, logger: silentLogger() });
    const first = feed.subscribe(() => undefined);
    await expect.poll(() => feed.snapshot().length).toBe(2);
    const late: FleetMessage[] = [];
    const off = feed.subscribe((m) => late.push(m));
    expect(late.map((m) => m.type === 'service-status' && m.status.service)).toEqual(['api', 'web']);
    off();
    first();
  });
});
