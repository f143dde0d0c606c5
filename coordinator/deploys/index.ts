// Deploys, rollbacks, locks and their audit log; waves and their convergence (issue 6).
export { DeployService, type DeployServiceOptions } from './deploy-service.ts';
export type { DeployRequest, RollbackRequest, DeployOutcome } from './deploy-request.ts';
export type { ServiceStatus, RegionGoal, DeploymentProgress } from './deployment-reads.ts';
export type { Relay } from './relay.ts';
export type { DeployPreview, RegionPreview, CommitChange } from './deploy-preview.ts';
export { CommitHistory, type Commit } from './commit-history.ts';
export { AuditSpool, spoolDir, type SpooledRecord } from './audit-spool.ts';
export { Leases, newHolderName, rolloutLease, serviceLease, type LeasesOptions } from './leases.ts';
export { controlActions, type ControlAction } from './rollout-control.ts';
export { formatDeploymentId, parseDeploymentId, placeholderDeploymentId, isPlaceholderDeploymentId, isFinal, type Deployment, type ServiceLock } from './deployment.ts';
export type { GoalStore, FleetState } from './goal-store.ts';
export type { MirrorState } from './mirror-state.ts';
export { waveStatuses, defaultWaves, type Wave, type WaveStatus } from './waves.ts';
export type { RegionConvergence } from './convergence.ts';
export { selectAudit, countDeploymentsByStatus } from './sql/deploy-sql.ts';
export { listAudit, type AuditFilter } from './sql/audit-sql.ts';
