import type { Logger } from '../../../logging/index.ts';
import type { BuildQueue } from '../../../queue/index.ts';
import type { ServiceRegistry } from '../../../queue/services/index.ts';
import type { DeployService } from '../../deploys/index.ts';
import type { ReplicationStatusService } from '../../replication/index.ts';
import { toBuildJson, type BuildJson } from '../build-json.ts';
import { toServiceStatusJson, type ServiceStatusJson } from '../deployment-json.ts';
import { PollingLoop, type NextStep } from './polling-loop.ts';

/** What the feed tells its listeners: one service's status, or one of the newest builds. */
export type FleetMessage = { type: 'service-status'; status: ServiceStatusJson } | { type: 'build'; build: BuildJson };
export type FleetListener = (message: FleetMessage) => void;

export interface FleetFeedOptions {
  services: Pick<ServiceRegistry, 'list'>;
  deploys: Pick<DeployService, 'status'>;
  queue: Pick<BuildQueue, 'list'>;
  replication: Pick<ReplicationStatusService, 'forBuilds'>;
  /** How often the one reader looks at the fleet. @defaultValue 500 */
  pollMs?: number;
  /** How many of the newest builds (all services) the feed follows. @defaultValue 50 */
  builds?: number;
  logger: Logger;
}

/**
 * The fleet-wide change feed behind `{"subscribe":"fleet"}`: ONE reader for the whole
 * coordinator, whatever the number of listeners. Each round reads every service's status (goal
 * and machines from the hub's in-memory views; lock and newest deployment from SQL) and the
 * newest builds, and tells every listener what changed. 500 open dashboards therefore cost the
 * database what one costs; the reader runs only while someone listens.
 */
export class FleetFeed {
  private readonly listeners = new Set<FleetListener>();
  private readonly statuses = new Map<string, { key: string; status: ServiceStatusJson }>();
  private readonly builds = new Map<number, { key: string; build: BuildJson }>();
  private loop: PollingLoop | null = null;
  /** Rounds read since start: with the SQL reads of a round, what the benchmark compares. */
  rounds = 0;

  constructor(private readonly options: FleetFeedOptions) {}

  /** Sends what is known now to `listener`, then every change; returns the unsubscribe. */
  subscribe(listener: FleetListener): () => void {
    for (const { status } of this.statuses.values()) listener({ type: 'service-status', status });
    for (const { build } of this.builds.values()) listener({ type: 'build', build });
    this.listeners.add(listener);
    if (this.loop === null) {
      this.loop = new PollingLoop(() => this.round(), this.options.pollMs ?? 500, (err) => this.onError(err));
      this.loop.start();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Every service's status as last read (empty before the first round). */
  snapshot(): ServiceStatusJson[] {
    return [...this.statuses.values()].map((s) => s.status);
  }

  get listening(): number {
    return this.listeners.size;
  }

  stop(): void {
    this.loop?.stop();
    this.loop = null;
  }

  private async round(): Promise<NextStep> {
    this.rounds++;
    const services = await this.options.services.list();
    const seen = new Set<string>();
    for (const service of services) {
      seen.add(service.name);
      let json: ServiceStatusJson;
      try {
        // The P2P key lets a machine find a region's swarm: a page has no use for it.
        json = withoutP2pKey(toServiceStatusJson(await this.options.deploys.status(service.name)));
      } catch (err) {
        // Without the hub (NATS_UNAVAILABLE) the last status known stays; builds still flow.
        this.options.logger.debug({ err, service: service.name }, 'fleet feed: no status for a service this round');
        continue;
      }
      const key = JSON.stringify(json);
      if (this.statuses.get(service.name)?.key === key) continue;
      this.statuses.set(service.name, { key, status: json });
      this.tell({ type: 'service-status', status: json });
    }
    for (const name of this.statuses.keys()) if (!seen.has(name)) this.statuses.delete(name);

    const builds = await this.options.queue.list({ limit: this.options.builds ?? 50 });
    const replication = await this.options.replication.forBuilds(builds);
    const kept = new Set<number>();
    // Oldest first, so a listener's list grows in the order builds were made.
    for (const build of [...builds].reverse()) {
      kept.add(build.id);
      const json = toBuildJson(build, replication.get(build.id));
      // The heartbeat ticks every few seconds and says nothing a page shows.
      const key = JSON.stringify({ ...json, lastHeartbeat: null });
      if (this.builds.get(build.id)?.key === key) continue;
      this.builds.set(build.id, { key, build: json });
      this.tell({ type: 'build', build: json });
    }
    for (const id of this.builds.keys()) if (!kept.has(id)) this.builds.delete(id);
    return 'later';
  }

  private tell(message: FleetMessage): void {
    for (const listener of this.listeners) listener(message);
  }

  private onError(err: unknown): NextStep {
    this.options.logger.warn({ err }, 'fleet feed: a round failed; retrying');
    return 'later';
  }
}

function withoutP2pKey(status: ServiceStatusJson): ServiceStatusJson {
  return { ...status, regions: status.regions.map((r) => ({ ...r, goal: r.goal && { ...r.goal, p2pKey: null } })) };
}
