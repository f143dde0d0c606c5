import type { Database } from '../../entities/index.ts';
import { formatBuildId, type Build } from '../../queue/index.ts';
import { toReplication, type Replication, type ReplicationStatus } from './replication.ts';
import { selectForBuild, selectForBuilds } from './sql/select.ts';

export interface RegionReplication {
  region: string;
  status: ReplicationStatus;
  attempts: number;
  bytesCopied: number;
  size: number | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
  removedAt: Date | null;
}

export interface BuildReplication {
  regions: RegionReplication[];
  deployable: boolean;
  /** Why not, in words a person can act on; null when deployable. */
  reason: string | null;
}

/**
 * Which regions hold a verified copy of a build. A build is deployable only when it
 * SUCCEEDED and every configured region's copy is DONE and still there.
 */
export class ReplicationStatusService {
  constructor(
    private readonly db: Database,
    private readonly regions: readonly string[],
  ) {}

  async forBuild(build: Build): Promise<BuildReplication> {
    const rows = (await selectForBuild(this.db, build.id)).map(toReplication);
    return this.summarize(build, rows);
  }

  async forBuilds(builds: Build[]): Promise<Map<number, BuildReplication>> {
    const rows = (await selectForBuilds(this.db, builds.map((b) => b.id))).map(toReplication);
    return new Map(builds.map((build) => [build.id, this.summarize(build, rows.filter((row) => row.buildId === build.id))]));
  }

  private summarize(build: Build, rows: Replication[]): BuildReplication {
    const regions = this.regions.map((region): RegionReplication => {
      const row = rows.find((r) => r.region === region);
      if (!row) {
        return { region, status: 'PENDING', attempts: 0, bytesCopied: 0, size: build.size, startedAt: null, finishedAt: null, error: null, removedAt: null };
      }
      const { status, attempts, bytesCopied, size, startedAt, finishedAt, error, removedAt } = row;
      return { region, status, attempts, bytesCopied, size, startedAt, finishedAt, error, removedAt };
    });
    return { regions, ...deployability(build, regions) };
  }
}

function deployability(build: Build, regions: RegionReplication[]): { deployable: boolean; reason: string | null } {
  const id = formatBuildId(build.id);
  if (build.status !== 'SUCCEEDED') return { deployable: false, reason: `build ${id} is ${build.status}, not SUCCEEDED` };
  const removed = regions.filter((r) => r.removedAt !== null);
  if (removed.length > 0) {
    return { deployable: false, reason: `build ${id} was removed from ${names(removed)} by the retention policy; build the commit again` };
  }
  const failed = regions.filter((r) => r.status === 'FAILED');
  if (failed.length > 0) {
    const detail = failed.map((r) => `${r.region}: ${r.error ?? 'failed'}`).join('; ');
    return { deployable: false, reason: `copies of ${id} failed in ${names(failed)} (${detail}); retry with: fleetcast replicate ${id}` };
  }
  const waiting = regions.filter((r) => r.status !== 'DONE');
  if (waiting.length > 0) {
    const detail = waiting.map((r) => `${r.region} ${r.status}${r.error ? `, last error: ${r.error}` : ''}`).join('; ');
    return { deployable: false, reason: `build ${id} is not yet in every region: waiting for ${detail}` };
  }
  return { deployable: true, reason: null };
}

const names = (regions: RegionReplication[]) => regions.map((r) => r.region).join(', ');
