// The coordinator's JSON as the bot reads it: the API's own types.
export type {
  BuildJson as BuildInfo,
  ConvergenceJson as RegionProgress,
  DeploymentJson as DeploymentInfo,
  DeploymentListJson,
  DeploymentProgressJson as DeploymentEvent,
  LockJson,
  ServiceStatusJson as StatusInfo,
  WaveJson as Wave,
  WhoamiJson,
  BuildPageJson,
  DeployPreviewJson as DeployPreviewInfo,
  CommitJson as CommitInfo,
  ErrorJson,
} from '../../api-contract/index.ts';
