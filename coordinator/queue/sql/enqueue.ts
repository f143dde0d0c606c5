import type { SqlRunner } from '../../../entities/index.ts';

export interface EnqueueRow {
  service: string;
  commit: string;
  artifact: string;
  maxAttempts: number;
  requestedBy: string | null;
}

/** Appends a QUEUED build; FIFO position is its created_at (database clock), then its id. */
export async function insertBuild(sql: SqlRunner, row: EnqueueRow): Promise<number> {
  const { insertId } = await sql.execute(
    {
      mysql: `INSERT INTO builds (service, commit_sha, artifact, status, created_at, attempts, max_attempts, requested_by)
              VALUES (?, ?, ?, 'QUEUED', UTC_TIMESTAMP(3), 0, ?, ?)`,
      sqlite: `INSERT INTO builds (service, commit_sha, artifact, status, created_at, attempts, max_attempts, requested_by)
               VALUES (?, ?, ?, 'QUEUED', strftime('%Y-%m-%d %H:%M:%f', 'now'), 0, ?, ?)`,
    },
    [row.service, row.commit, row.artifact, row.maxAttempts, row.requestedBy],
  );
  return insertId;
}
