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

/** deployments.status. */
export const deploymentStatuses = ['WRITING', 'ROLLING', 'APPLIED', 'FAILED', 'HALTED', 'SUPERSEDED'] as const;
export type DeploymentStatus = (typeof deploymentStatuses)[number];

/** deployments.kind. */
export type DeploymentKind = 'deploy' | 'rollback';

/** The status of each wave in deployments.waves (JSON). */
export const waveStatuses = ['PENDING', 'WRITTEN', 'CONVERGED', 'FAILED', 'SKIPPED'] as const;
export type WaveStatus = (typeof waveStatuses)[number];

/** audit.result. */
export type AuditResult = 'ok' | 'refused' | 'error';
