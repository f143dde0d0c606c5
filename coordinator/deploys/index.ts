// Deploys, rollbacks, locks and their audit log; waves and their convergence (issue 6).
export {
  DeployService,
  type DeployServiceOptions,
  type DeployRequest,
  type RollbackRequest,
  type ServiceStatus,
  type RegionGoal,
  type DeploymentProgress,
  type DeployOutcome,
  type Relay,
} from './deploy-service.ts';
export { AuditSpool, spoolDir, type SpooledRecord } from './audit-spool.ts';
export { controlActions, type ControlAction } from './rollout-control.ts';
export { formatDeploymentId, parseDeploymentId, placeholderDeploymentId, isPlaceholderDeploymentId, isFinal, toDeployment, type Deployment, type ServiceLock } from './deployment.ts';
export type { GoalStore, FleetState } from './goal-store.ts';
export type { MirrorState } from './mirror-state.ts';
export { waveStatuses, defaultWaves, type Wave, type WaveStatus } from './waves.ts';
export type { RegionConvergence } from './convergence.ts';
export { selectAudit, countDeploymentsByStatus } from './sql/deploy-sql.ts';
export { listAudit, type AuditFilter } from './sql/audit-sql.ts';
