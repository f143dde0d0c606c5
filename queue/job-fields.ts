import { fromSqlTime } from '../entities/index.ts';

/** The queue-machinery columns of a job row, as every job type shows them. */
export interface JobFields<Status extends string> {
  id: number;
  status: Status;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  attempts: number;
  maxAttempts: number;
  claimedBy: string | null;
  lastHeartbeat: Date | null;
}

export function toJobFields<Status extends string>(row: Record<string, unknown>): JobFields<Status> {
  return {
    id: Number(row.id),
    status: row.status as Status,
    createdAt: fromSqlTime(row.created_at)!,
    startedAt: fromSqlTime(row.started_at),
    finishedAt: fromSqlTime(row.finished_at),
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    claimedBy: (row.claimed_by as string | null) ?? null,
    lastHeartbeat: fromSqlTime(row.last_heartbeat),
  };
}
