import type { Database } from '../../entities/index.ts';
import type { Logger } from '../../logging/index.ts';
import type { DeployService } from '../deploys/index.ts';
import type { DeliverySettings, FreezeBook } from '../delivery/index.ts';
import type { HubLink } from '../fleet/hub-link.ts';
import type { MirrorCheck } from '../fleet/mirror-check.ts';
import type { BuildQueue } from '../../queue/index.ts';
import type { ReplicationStatusService } from '../replication/index.ts';
import type { ServiceRegistry } from '../../queue/services/index.ts';
import type { ServiceAccess, TokenStore } from './auth/index.ts';
import type { BuildLogSource } from './build-log-source.ts';

/** What the API's routes work with; the coordinator's run() wires it. */
export interface ApiContext {
  db: Database;
  queue: BuildQueue;
  services: ServiceRegistry;
  tokens: TokenStore;
  /** Per-service token limits and a relay's Slack grants, checked on every route that touches a service. */
  access: ServiceAccess;
  logs: BuildLogSource;
  /** Which regions hold a build, and `fleetcast replicate`. */
  replication: {
    status: Pick<ReplicationStatusService, 'forBuild' | 'forBuilds'>;
    retry(buildId: number, region?: string): Promise<number>;
  };
  /** Deploys, rollbacks, locks and the goal state. */
  deploys: DeployService;
  /** Freeze windows and each service's continuous deploy and pre-deploy check (issue 23). @defaultValue the routes answer NOT_FOUND */
  delivery?: { freezes: FreezeBook; settings: DeliverySettings };
  /** FLEETCAST_REGIONS: a service's own wave plan is checked against them at `service add`. @defaultValue not checked there (only at each deploy) */
  regions?: readonly string[];
  /** The fleet's signals for /metrics: refusals the agents report, the state of each region's goal mirror. @defaultValue none */
  fleet?: { hub: Pick<HubLink, 'refusalsSeen' | 'refusingMachines'> & Partial<Pick<HubLink, 'machines'>>; mirrors: Pick<MirrorCheck, 'all'> };
  logger: Logger;
}
