// Deploys, rollbacks, locks and their audit log (issue 6); waves and convergence come later.
export { DeployService, type DeployServiceOptions, type DeployRequest, type RollbackRequest, type ServiceStatus, type RegionGoal, type Relay } from './deploy-service.ts';
export { AuditSpool, spoolDir, type SpooledRecord } from './audit-spool.ts';
export { formatDeploymentId, placeholderDeploymentId, isPlaceholderDeploymentId, type Deployment, type ServiceLock } from './deployment.ts';
export type { GoalStore } from './goal-store.ts';
export { selectAudit } from './sql/deploy-sql.ts';
