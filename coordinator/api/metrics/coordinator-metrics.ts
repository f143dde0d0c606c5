import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { buildStatuses, deploymentStatuses, replicationStatuses, type Database } from '../../../entities/index.ts';
import { countDeploymentsByStatus } from '../../deploys/index.ts';
import { GithubOutbox } from '../../github/index.ts';
import type { Logger } from '../../../logging/index.ts';
import type { BuildQueue } from '../../../queue/index.ts';
import { countReplicationsByStatus, oldestUnfinishedAgeSeconds } from '../../replication/index.ts';
import type { ApiContext } from '../api-context.ts';
import { BuildDurationFeed } from './build-duration-feed.ts';
import { FleetMetrics } from './fleet-metrics.ts';
import { selectQueueAges } from './metrics-sql.ts';

/** Build durations run from seconds to the 15-minute limit; the buckets resolve both ends. */
const durationBuckets = [5, 15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600];

/**
 * The coordinator's Prometheus metrics, in a registry of its own (so tests can run several
 * coordinators in one process). Queue gauges are computed from SQL when scraped, not kept in
 * memory: every coordinator reports the same truth, and one restarting loses nothing. The
 * duration histogram is fed at scrape time with the builds finished since the previous scrape;
 * since every coordinator observes every build, aggregate it across coordinators with max (or
 * pick one instance), never sum.
 */
export class CoordinatorMetrics {
  readonly registry = new Registry();
  private readonly up: Gauge;
  private readonly builds: Gauge<'status'>;
  private readonly depth: Gauge;
  private readonly oldestQueued: Gauge;
  private readonly heartbeatAge: Gauge;
  private readonly duration: Histogram<'status'>;
  private readonly replications: Gauge<'status'>;
  private readonly replicationLag: Gauge;
  private readonly copiesInFlight: Gauge;
  private readonly deployments: Gauge<'status'>;
  private readonly githubPending: Gauge;
  private readonly githubOutbox: GithubOutbox;
  private readonly feed: BuildDurationFeed;
  private readonly fleet: FleetMetrics | undefined;

  constructor(
    private readonly db: Database,
    private readonly queue: BuildQueue,
    private readonly logger: Logger,
    fleet?: ApiContext['fleet'],
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.up = new Gauge({ name: 'fleetcast_database_up', help: '1 if the database answered the last scrape, else 0', registers });
    this.builds = new Gauge({ name: 'fleetcast_builds', help: 'builds by status (the whole history)', labelNames: ['status'], registers });
    this.depth = new Gauge({ name: 'fleetcast_queue_depth', help: 'builds waiting for a worker (QUEUED)', registers });
    this.oldestQueued = new Gauge({
      name: 'fleetcast_queue_oldest_age_seconds',
      help: 'how long the oldest QUEUED build has waited (0 when none)',
      registers,
    });
    this.heartbeatAge = new Gauge({
      name: 'fleetcast_running_heartbeat_max_age_seconds',
      help: 'the stalest heartbeat among RUNNING builds (0 when none); near the heartbeat timeout means workers are dying',
      registers,
    });
    this.duration = new Histogram({
      name: 'fleetcast_build_duration_seconds',
      help: 'start to finish of the last attempt of builds finished while this coordinator ran, by final status',
      labelNames: ['status'],
      buckets: durationBuckets,
      registers,
    });
    this.replications = new Gauge({
      name: 'fleetcast_replications',
      help: 'regional copies by status (FAILED ones keep their build from being deployable)',
      labelNames: ['status'],
      registers,
    });
    this.replicationLag = new Gauge({
      name: 'fleetcast_replication_lag_seconds',
      help: 'how long the oldest unfinished regional copy has waited since it was planned (0 when none)',
      registers,
    });
    this.copiesInFlight = new Gauge({ name: 'fleetcast_replication_copies_in_flight', help: 'regional copies being made now (COPYING)', registers });
    this.deployments = new Gauge({
      name: 'fleetcast_deployments',
      help: 'deployments and rollbacks by status (the whole history); ROLLING ones wait for a wave to converge, PAUSED ones for a person, FAILED ones had a wave fail (and were rolled back automatically unless that is off)',
      labelNames: ['status'],
      registers,
    });
    this.githubPending = new Gauge({
      name: 'fleetcast_github_outbox_pending',
      help: 'commit statuses and deployment statuses waiting to be sent to GitHub (0 when FLEETCAST_GITHUB_TOKEN is unset); growing: GitHub is down or refuses the token',
      registers,
    });
    this.githubOutbox = new GithubOutbox(db);
    this.feed = new BuildDurationFeed(db);
    this.fleet = fleet ? new FleetMetrics(this.registry, fleet) : undefined;
  }

  async start(): Promise<void> {
    await this.feed.start();
  }

  /** The text for GET /metrics. A database that does not answer shows as fleetcast_database_up 0, not as a failed scrape. */
  async scrape(): Promise<string> {
    // From memory, not SQL: shown whether or not the database answers.
    this.fleet?.update();
    try {
      const counts = await this.queue.counts();
      const ages = await selectQueueAges(this.db);
      const finished = await this.feed.next();
      const copies = await countReplicationsByStatus(this.db);
      const lag = await oldestUnfinishedAgeSeconds(this.db);
      const deployments = await countDeploymentsByStatus(this.db);
      const githubPending = await this.githubOutbox.backlog();
      this.up.set(1);
      this.githubPending.set(githubPending);
      for (const status of replicationStatuses) this.replications.set({ status }, copies[status]);
      this.replicationLag.set(Math.max(0, lag));
      this.copiesInFlight.set(copies.COPYING);
      for (const status of deploymentStatuses) this.deployments.set({ status }, deployments[status]);
      for (const status of buildStatuses) this.builds.set({ status }, counts[status]);
      this.depth.set(counts.QUEUED);
      this.oldestQueued.set(ages.oldestQueuedSeconds ?? 0);
      this.heartbeatAge.set(ages.maxHeartbeatAgeSeconds ?? 0);
      for (const build of finished) {
        if (build.durationSeconds !== null) this.duration.observe({ status: build.status }, build.durationSeconds);
      }
    } catch (err) {
      this.logger.warn({ err }, 'metrics: the database does not answer');
      // The queue gauges keep their last values; alert on fleetcast_database_up, not on them.
      this.up.set(0);
    }
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
