export { Database, defaultSqlitePath, type DatabaseOptions, type SqlRunner, type ExecResult, type IsolationLevel } from './database.ts';
export { isTransientDatabaseError } from './database-errors.ts';
export type { Dialect, DialectSql } from './dialect.ts';
export { BuildEntity, buildStatuses, type BuildStatus } from './build.entity.ts';
export { ServiceEntity } from './service.entity.ts';
export { JobColumns } from './job-columns.ts';
export { ReplicationEntity, replicationStatuses, type ReplicationStatus } from './replication.entity.ts';
export { migrations } from './migrations/index.ts';
export { fromSqlTime, durationParam } from './sql-time.ts';
