// The values the status and kind columns hold. The tables themselves are defined once, by the
// numbered migrations (migrations/), and read and written with plain SQL next to each
// operation (queue/sql/, coordinator/replication/, coordinator/deploys/): there are no entity
// classes, so there is no second description of the schema to drift from the first.

/** builds.status; CHECK chk_builds_status. */
export const buildStatuses = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const;
export type BuildStatus = (typeof buildStatuses)[number];

/** replications.status. */
export const replicationStatuses = ['PENDING', 'COPYING', 'DONE', 'FAILED'] as const;
export type ReplicationStatus = (typeof replicationStatuses)[number];

/**
 * deployments.status. WRITING while the first wave is written; ROLLING until every wave has
 * converged; PAUSED (no next wave written); then one of the final ones: CONVERGED (every wave
 * converged), FAILED (a wave failed, or its goal could not be written), ABORTED (stopped by a
 * person, its regions rolled back), SUPERSEDED (a newer deploy took over), ROLLED_BACK (a rollback
 * replaced its build in all its regions).
 */
export const deploymentStatuses = ['WRITING', 'ROLLING', 'PAUSED', 'CONVERGED', 'FAILED', 'ABORTED', 'SUPERSEDED', 'ROLLED_BACK'] as const;
/** The statuses after which nothing more happens to a deployment. */
export const finalDeploymentStatuses = ['CONVERGED', 'FAILED', 'ABORTED', 'SUPERSEDED', 'ROLLED_BACK'] as const;
export type DeploymentStatus = (typeof deploymentStatuses)[number];

/** deployments.kind. */
export type DeploymentKind = 'deploy' | 'rollback';

/** The status of each wave in deployments.waves (JSON). */
export const waveStatuses = ['PENDING', 'WRITTEN', 'CONVERGED', 'FAILED', 'SKIPPED'] as const;
export type WaveStatus = (typeof waveStatuses)[number];

/** audit.result. */
export type AuditResult = 'ok' | 'refused' | 'error';
