import type { BuildJson, ServiceJson } from '../../api-contract/index.ts';
import { formatDuration } from '../../config/index.ts';
import { fields } from './table.ts';

/** `1h 2m`, `3m 04s`, `12.3s`. */
export function elapsed(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

export function bytes(size: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) (value /= 1024), (unit += 1);
  return unit === 0 ? `${size} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** `2026-01-31 12:00:05Z`: sortable, unambiguous, short. */
export function when(iso: string | null): string {
  return iso === null ? '-' : iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export const shortCommit = (commit: string): string => commit.slice(0, 12);

/** One line for a finished (or current) build. */
export function buildSummary(build: BuildJson): string {
  const what = `${build.id} ${build.service} @ ${shortCommit(build.commit)}`;
  if (build.status === 'SUCCEEDED') {
    return `${what} SUCCEEDED in ${elapsed(build.durationMs ?? 0)}: ${bytes(build.size ?? 0)}, sha256 ${build.digest}`;
  }
  if (build.status === 'FAILED') return `${what} FAILED${build.durationMs === null ? '' : ` after ${elapsed(build.durationMs)}`}: ${build.failureReason ?? 'no reason given'}`;
  return `${what} ${build.status}`;
}

export function buildDetails(build: BuildJson): string {
  return fields([
    ['build', build.id],
    ['service', build.service],
    ['commit', build.commit],
    ['status', build.status],
    ['artifact', build.artifact],
    ['created', when(build.createdAt)],
    ['started', when(build.startedAt)],
    ['finished', when(build.finishedAt)],
    ['duration', build.durationMs === null ? '-' : elapsed(build.durationMs)],
    ['attempts', `${build.attempts}/${build.maxAttempts}`],
    ['worker', build.claimedBy ?? '-'],
    ['heartbeat', when(build.lastHeartbeat)],
    ['digest', build.digest === null ? '-' : `sha256:${build.digest}`],
    ['size', build.size === null ? '-' : `${bytes(build.size)} (${build.size} bytes)`],
    ['requested by', build.requestedBy ?? '-'],
    ...(build.used === null ? [] : ([['runs', `${build.used.runCommand ?? '(no run command)'}${build.used.healthUrl ? `, health ${build.used.healthUrl}` : ''} (from ${build.used.config.source})`]] as const)),
    ...(build.branchOverrideBy === null ? [] : ([['branch rule', `overridden by ${build.branchOverrideBy}`]] as const)),
    ...(build.cancelledBy === null ? [] : ([['cancelled by', build.cancelledBy]] as const)),
    ...(build.failureReason === null ? [] : ([['failure', build.failureReason]] as const)),
    ['deployable', deployability(build)],
    ...(build.replication ?? []).map((copy) => [`  ${copy.region}`, regionCopy(copy)] as const),
  ]);
}

/** `yes`, or `no: <why>`; `-` where the coordinator did not say. */
export function deployability(build: BuildJson): string {
  if (build.deployable === null) return '-';
  return build.deployable ? 'yes' : `no: ${build.deployableReason ?? 'unknown'}`;
}

type RegionCopy = NonNullable<BuildJson['replication']>[number];

function regionCopy(copy: RegionCopy): string {
  const parts: string[] = [copy.status];
  if (copy.status === 'COPYING' && copy.size) parts.push(`${Math.floor((100 * copy.bytesCopied) / copy.size)}%`);
  if (copy.status === 'DONE' && copy.startedAt && copy.finishedAt) {
    parts.push(`in ${elapsed(Date.parse(copy.finishedAt) - Date.parse(copy.startedAt))}, ${when(copy.finishedAt)}`);
  }
  if (copy.attempts > 1 || copy.status === 'FAILED') parts.push(`attempt ${copy.attempts}`);
  if (copy.removedAt) parts.push(`removed by retention ${when(copy.removedAt)}`);
  if (copy.error) parts.push(`(${copy.error})`);
  return parts.join(' ');
}

export function serviceDetails(service: ServiceJson): string {
  return fields([
    ['service', service.name],
    ['repo', service.repo],
    ['branch', service.branch],
    ['build', service.buildCommand],
    ['artifact', service.artifactPath],
    ['run', service.runCommand ?? '-'],
    ['health', service.healthUrl ?? '-'],
    ['build network', service.buildNetwork ? 'on' : 'off'],
    ['build settings', service.buildSettings.join(', ') || '-'],
    ['metric gate', service.metricGate ? `${service.metricGate.query} ≤ ${service.metricGate.max} for ${formatDuration(service.metricGate.holdMs)}` : '-'],
    ['waves', service.wavePlan ?? "the coordinator's plan"],
    ['auto-rollback', service.autoRollback === null ? "the coordinator's setting" : service.autoRollback ? 'on' : 'off'],
    ['created', when(service.createdAt)],
  ]);
}
