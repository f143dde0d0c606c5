import { fromSqlTime, type SqlRunner } from '../../../entities/index.ts';
import type { BuildStatus } from '../../../queue/index.ts';

// Read-only queries for GET /metrics, run at scrape time. Each uses an index of builds
// (status + created_at, status + last_heartbeat, the primary key), so a scrape stays cheap
// however long the build history grows.

export interface QueueAges {
  /** Seconds the oldest QUEUED build has waited; null when nothing is queued. */
  oldestQueuedSeconds: number | null;
  /** Seconds since the stalest heartbeat of a RUNNING build; null when nothing runs. */
  maxHeartbeatAgeSeconds: number | null;
}

export async function selectQueueAges(sql: SqlRunner): Promise<QueueAges> {
  const [row] = await sql.query<{ oldest_queued_s: unknown; max_heartbeat_age_s: unknown }>({
    mysql: `SELECT
              (SELECT TIMESTAMPDIFF(MICROSECOND, MIN(created_at), UTC_TIMESTAMP(3)) FROM builds WHERE status = 'QUEUED') / 1000000 AS oldest_queued_s,
              (SELECT TIMESTAMPDIFF(MICROSECOND, MIN(last_heartbeat), UTC_TIMESTAMP(3)) FROM builds WHERE status = 'RUNNING') / 1000000 AS max_heartbeat_age_s`,
    sqlite: `SELECT
               (SELECT (julianday('now') - julianday(MIN(created_at))) * 86400.0 FROM builds WHERE status = 'QUEUED') AS oldest_queued_s,
               (SELECT (julianday('now') - julianday(MIN(last_heartbeat))) * 86400.0 FROM builds WHERE status = 'RUNNING') AS max_heartbeat_age_s`,
  });
  const seconds = (value: unknown): number | null => (value === null || value === undefined ? null : Math.max(0, Number(value)));
  return { oldestQueuedSeconds: seconds(row?.oldest_queued_s), maxHeartbeatAgeSeconds: seconds(row?.max_heartbeat_age_s) };
}

/**
 * The lowest build id that can still finish: the oldest QUEUED or RUNNING build, or else the
 * next id to be given out. Every build that finishes later has an id at least this.
 */
export async function selectUnfinishedFloor(sql: SqlRunner): Promise<number> {
  const [row] = await sql.query<{ floor_id: unknown }>(
    `SELECT COALESCE((SELECT MIN(id) FROM builds WHERE status IN ('QUEUED', 'RUNNING')),
                     (SELECT COALESCE(MAX(id), 0) + 1 FROM builds)) AS floor_id`,
  );
  return Number(row?.floor_id ?? 1);
}

export interface FinishedBuild {
  id: number;
  status: BuildStatus;
  /** finishedAt − startedAt of the last attempt; null for builds cancelled before they started. */
  durationSeconds: number | null;
}

/** Finished builds with ids from `floor` up (a primary-key range scan). */
export async function selectFinishedFrom(sql: SqlRunner, floor: number): Promise<FinishedBuild[]> {
  const rows = await sql.query<{ id: unknown; status: BuildStatus; started_at: unknown; finished_at: unknown }>(
    `SELECT id, status, started_at, finished_at FROM builds WHERE id >= ? AND status IN ('SUCCEEDED', 'FAILED') ORDER BY id`,
    [floor],
  );
  return rows.map((row) => {
    const started = fromSqlTime(row.started_at);
    const finished = fromSqlTime(row.finished_at);
    return {
      id: Number(row.id),
      status: row.status,
      durationSeconds: started && finished ? Math.max(0, (finished.getTime() - started.getTime()) / 1000) : null,
    };
  });
}
