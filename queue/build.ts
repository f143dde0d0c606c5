import type { BuildStatus } from '../entities/index.ts';
import { buildConfig, type BuildUsed } from './build-config.ts';
import { FleetcastError } from '../errors/index.ts';
import type { Claim } from './claim.ts';
import { toJobFields, type JobFields } from './job-fields.ts';

export type { BuildStatus };

/** A build as the queue and its callers see it. Times come from the database's clock. */
export interface Build extends JobFields<BuildStatus> {
  service: string;
  commit: string;
  artifact: string;
  failureReason: string | null;
  /** sha256 of the artifact, lower-case hex, once SUCCEEDED. */
  digest: string | null;
  size: number | null;
  requestedBy: string | null;
  cancelledBy: string | null;
  /** `Name <email>` of the commit's author and the commit's first line, once a builder checked it out. */
  commitAuthor: string | null;
  commitSubject: string | null;
  /** The admin who allowed building a commit that is not on the service's branch; null: the branch rule holds. */
  branchOverrideBy: string | null;
  /**
   * What the build used (its commands, health check and fleetcast.yml sections), recorded when it
   * succeeded; null for builds made before fleetcast recorded it, and until it succeeds.
   */
  used: BuildUsed | null;
}

export interface ClaimedBuild {
  build: Build;
  claim: Claim;
}

export type BuildRow = Record<string, unknown>;

export function toBuild(row: BuildRow): Build {
  return {
    ...toJobFields<BuildStatus>(row),
    service: String(row.service),
    commit: String(row.commit_sha),
    artifact: String(row.artifact),
    failureReason: (row.failure_reason as string | null) ?? null,
    digest: (row.digest as string | null) ?? null,
    size: row.size === null || row.size === undefined ? null : Number(row.size),
    requestedBy: (row.requested_by as string | null) ?? null,
    cancelledBy: (row.cancelled_by as string | null) ?? null,
    commitAuthor: (row.commit_author as string | null) ?? null,
    commitSubject: (row.commit_subject as string | null) ?? null,
    branchOverrideBy: (row.branch_override_by as string | null) ?? null,
    used: toBuildUsed(row),
  };
}

function toBuildUsed(row: BuildRow): BuildUsed | null {
  if (row.build_command === null || row.build_command === undefined) return null;
  const parsed = buildConfig.safeParse(row.build_config ? JSON.parse(String(row.build_config)) : { source: 'service' });
  return {
    buildCommand: String(row.build_command),
    artifact: String(row.artifact),
    runCommand: (row.run_command as string | null) ?? null,
    healthUrl: (row.health_url as string | null) ?? null,
    config: parsed.success ? parsed.data : { source: 'service' },
  };
}

export function formatBuildId(id: number): string {
  return `b${id}`;
}

/** Accepts `b42` or `42`. */
export function parseBuildId(text: string | number): number {
  const match = /^b?([1-9]\d{0,15})$/.exec(String(text).trim());
  if (!match) {
    throw new FleetcastError('INVALID_INPUT', `"${text}" is not a build id; build ids look like b42`, { buildId: text });
  }
  return Number(match[1]);
}

export function validateCommit(commit: string): string {
  if (!/^[0-9a-fA-F]{7,64}$/.test(commit)) {
    throw new FleetcastError(
      'INVALID_INPUT',
      `"${commit}" is not a commit sha: give 7 to 64 hexadecimal characters (e.g. the output of git rev-parse HEAD)`,
      { commit },
    );
  }
  return commit.toLowerCase();
}

export function validateDigest(digest: string): string {
  if (!/^[0-9a-f]{64}$/.test(digest)) {
    throw new FleetcastError('INVALID_INPUT', `"${digest}" is not a sha256 digest (64 lower-case hex characters)`, { digest });
  }
  return digest;
}

export const isFinal = (status: BuildStatus): boolean => status === 'SUCCEEDED' || status === 'FAILED';
