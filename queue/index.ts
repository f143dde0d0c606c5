export {
  BuildQueue,
  type BuildQueueOptions,
  type EnqueueRequest,
  type SubmitRequest,
  type SubmitResult,
  type ListRequest,
} from './build-queue.ts';
export { buildConfig, buildConfigSections, type BuildConfig, type BuildUsed } from './build-config.ts';
export { Reaper, type ReaperOptions, type ReapResult } from './reaper.ts';
export {
  QueueWorker,
  type QueueWorkerOptions,
  type BuildHandler,
  type BuildContext,
  type BuildResult,
  type JobHandler,
  type JobContext,
  type WorkSource,
  type StopOptions,
} from './queue-worker.ts';
export type { Claim, Claimed } from './claim.ts';
export { buildsTable, type JobTable } from './job-table.ts';
export { retryWhileUnavailable } from './retry.ts';
export {
  formatBuildId,
  parseBuildId,
  validateCommit,
  isFinal,
  type Build,
  type BuildStatus,
  type ClaimedBuild,
} from './build.ts';
