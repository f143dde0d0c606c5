// The coordinator's JSON as the bot reads it: the API's own types, with the fields of the
// progress contract (issue 6, landing on main) optional so that a coordinator without them
// still works — the bot then shows less, never breaks.
import type { BuildJson, DeploymentJson, ServiceStatusJson } from '../../coordinator/index.ts';

export type { LockJson, WhoamiJson, BuildPageJson, DeploymentListJson } from '../../coordinator/index.ts';

/** A build; `commitAuthor` / `commitSubject` where the coordinator records them. */
export type BuildInfo = BuildJson & { commitAuthor?: string | null; commitSubject?: string | null };

export interface Wave {
  regions: string[];
  status: string;
}

/** A deployment; `waves` where the coordinator deploys in waves. */
export type DeploymentInfo = DeploymentJson & { waves?: Wave[] };

export interface FailedMachine {
  machine: string;
  build: string | null;
  error: string | null;
  at: string;
}

/** Where the machines of one region stand against the goal. */
export interface Convergence {
  goalBuild: string | null;
  machines: number;
  running: number;
  downloading: { machines: number; bytes: number; total: number };
  failed: { machines: number; examples: FailedMachine[] };
  silent: number;
  other: number;
  converged: boolean;
}

export type RegionProgress = Convergence & { region: string };

type RegionStatus = ServiceStatusJson['regions'][number] & { convergence?: Convergence };

/** GET /v1/services/:name/status; `convergence` per region where the coordinator aggregates agents' reports. */
export type StatusInfo = Omit<ServiceStatusJson, 'regions'> & { regions: RegionStatus[] };

/** What a `deployment` subscription on /v1/events sends on every change until `final`. */
export interface DeploymentEvent {
  type: 'deployment';
  deployment: DeploymentInfo;
  progress: RegionProgress[];
  final: boolean;
}
