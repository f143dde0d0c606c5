// Goal state on NATS JetStream KV: the global `goal` bucket on the hub (written by the
// coordinator), its per-region mirrors `goal-<region>` on the leaves (watched by agents), and
// the agents' reports in `status-<region>` (aggregated by the coordinator).
export { GoalWriter, type GoalWriterOptions, type PutGoalOptions } from './goal-writer.ts';
export { RegionGoalView, type RegionGoalViewOptions, type MirrorHealth } from './region-goal-view.ts';
export { GoalWatch, liveHint, type GoalUpdate, type GoalListener, type GoalWatchOptions } from './goal-watch.ts';
export type { GoalSeqStore, SeqRecord } from './goal-ledger.ts';
export { signGoal, nextSeq, noSigningKey, type GoalSigningKey } from './goal-signer.ts';
export { goalKeyring, coordinatorGoalKeys } from './goal-keys.ts';
export { inspectGoalMirror, recreateGoalMirror, mirrorProblems, type MirrorInspection, type MirrorProblem } from './mirror-inspection.ts';
export { StatusReporter, type StatusReporterOptions, type StatusUpdate } from './status-reporter.ts';
export { RegionStatusView, type RegionStatusViewOptions } from './region-status-view.ts';
export { summarizeService, emptySummary, type ServiceStatusSummary, type FailedMachine, type RefusingMachine, type GoalTarget, type StatusEntry, type SummaryOptions, type RunningDigest } from './status-summary.ts';
export {
  goalSchema,
  goalContentSchema,
  goalPurposes,
  decodeGoal,
  goalContent,
  decodePrefetchHint,
  encodeGoal,
  type Goal,
  type GoalContent,
  type GoalPurpose,
  type GoalRevision,
  type GoalSignatureProblem,
} from './goal-document.ts';
export { statusSchema, agentStates, refusalCodes, decodeStatus, encodeStatus, type AgentState, type StatusReport, type Refusal, type RefusalCode } from './status-document.ts';
export { ensureFleetBuckets, bucketDefaults, type FleetBucketsOptions } from './ensure-buckets.ts';
export { coreBlockSize, coreKey, coreKeyPair, type CoreKeyPair } from './core-key.ts';
export { blockCount, blockLength } from './core-layout.ts';
export { connectNats, parseNatsUrl, type NatsConnection, type NatsConnectOptions, type NatsEndpoint } from './nats-connect.ts';
export {
  goalBucket,
  goalKey,
  prefetchKey,
  goalMirrorBucket,
  hubDomain,
  statusBucket,
  statusKey,
  validateMachine,
  validateRegion,
  validateService,
  servicePattern,
  regionPattern,
  machinePattern,
} from './names.ts';
