// The coordinator's JSON as the bot reads it: the API's own types.
import type { BuildJson } from '../../coordinator/index.ts';

export type {
  ConvergenceJson as RegionProgress,
  DeploymentJson as DeploymentInfo,
  DeploymentListJson,
  DeploymentProgressJson as DeploymentEvent,
  LockJson,
  ServiceStatusJson as StatusInfo,
  WaveJson as Wave,
  WhoamiJson,
  BuildPageJson,
} from '../../coordinator/index.ts';

/** A build; `commitAuthor` / `commitSubject` where the coordinator records them (its builds table has the columns). */
export type BuildInfo = BuildJson & { commitAuthor?: string | null; commitSubject?: string | null };
