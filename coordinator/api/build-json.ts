import { buildJson, buildPageJson, regionReplicationJson, type BuildJson, type BuildPageJson } from '../../api-contract/index.ts';
import { formatBuildId, type Build } from '../../queue/index.ts';
import type { BuildReplication } from '../replication/index.ts';

export { buildJson, buildPageJson, regionReplicationJson, type BuildJson, type BuildPageJson };

const iso = (date: Date | null): string | null => (date === null ? null : date.toISOString());

export function toBuildJson(build: Build, replication?: BuildReplication): BuildJson {
  return {
    id: formatBuildId(build.id),
    service: build.service,
    commit: build.commit,
    artifact: build.artifact,
    status: build.status,
    createdAt: build.createdAt.toISOString(),
    startedAt: iso(build.startedAt),
    finishedAt: iso(build.finishedAt),
    attempts: build.attempts,
    maxAttempts: build.maxAttempts,
    claimedBy: build.claimedBy,
    lastHeartbeat: iso(build.lastHeartbeat),
    failureReason: build.failureReason,
    digest: build.digest,
    size: build.size,
    requestedBy: build.requestedBy,
    cancelledBy: build.cancelledBy,
    commitAuthor: build.commitAuthor,
    commitSubject: build.commitSubject,
    branchOverrideBy: build.branchOverrideBy,
    used: build.used,
    durationMs: build.startedAt && build.finishedAt ? build.finishedAt.getTime() - build.startedAt.getTime() : null,
    deployable: replication ? replication.deployable : null,
    deployableReason: replication ? replication.reason : null,
    replication: replication
      ? replication.regions.map((r) => ({ ...r, startedAt: iso(r.startedAt), finishedAt: iso(r.finishedAt), removedAt: iso(r.removedAt) }))
      : null,
  };
}
