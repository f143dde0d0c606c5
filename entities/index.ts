export { Database, defaultSqlitePath, type DatabaseOptions, type SqlRunner, type ExecResult, type IsolationLevel } from './database.ts';
export { isTransientDatabaseError, isUniqueViolation } from './database-errors.ts';
export type { Dialect, DialectSql } from './dialect.ts';
export {
  buildStatuses,
  replicationStatuses,
  deploymentStatuses,
  finalDeploymentStatuses,
  waveStatuses,
  type BuildStatus,
  type ReplicationStatus,
  type DeploymentStatus,
  type DeploymentKind,
  type WaveStatus,
  type AuditResult,
} from './statuses.ts';
export { migrations } from './migrations/index.ts';
export { fromSqlTime, toSqlTime, durationParam } from './sql-time.ts';
