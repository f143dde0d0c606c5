export { runCoordinator, type CoordinatorHandle, type CoordinatorOverrides } from './run.ts';
export { loadCoordinatorConfig, coordinatorSettings, type CoordinatorConfig } from './config.ts';
export * from '../queue/index.ts';
export { DeployService, AuditSpool, spoolDir, selectAudit, isPlaceholderDeploymentId, placeholderDeploymentId, type Deployment, type ServiceLock } from './deploys/index.ts';
export { MetricGate, queryPrometheus, readPrometheusAnswer, type PrometheusReading } from './deploys/index.ts';
export { ServiceRegistry, type Service, type ServiceSpec } from '../queue/services/index.ts';
export {
  emptyBuildLog,
  toBuildJson,
  toServiceJson,
  type BuildLogSource,
  type LogChunk,
  type BuildJson,
  type DeploymentJson,
  type DeploymentListJson,
  type DeploymentProgressJson,
  type ConvergenceJson,
  type WaveJson,
  type LockJson,
  type ServiceStatusJson,
  type BuildPageJson,
  type ServiceJson,
  type ServiceListJson,
  type ErrorJson,
  type WhoamiJson,
  type ClientMessage,
  type ServerMessage,
  type Scope,
  onBehalfOfHeader,
} from './api/index.ts';
