export { ReplicationService, type ReplicationServiceOptions } from './replication-service.ts';
export { ReplicationStatusService, type BuildReplication, type RegionReplication } from './replication-status.ts';
export { ReplicationQueue, type ReplicationQueueOptions } from './replication-queue.ts';
export { Replicator, type ReplicatorOptions } from './replicator.ts';
export { ReplicationPlanner, type ReplicationPlannerOptions } from './replication-planner.ts';
export { ReplicationAuditor, type ReplicationAuditorOptions } from './replication-auditor.ts';
export { RetentionPolicy, type RetentionPolicyOptions } from './retention-policy.ts';
export { replicationsTable, type Replication, type ReplicationStatus, type CopyResult } from './replication.ts';
export { countReplicationsByStatus, oldestUnfinishedAgeSeconds } from './sql/select.ts';
