import type { SqlRunner } from '../../entities/index.ts';

export interface EnqueueRow {
  service: string;
  commit: string;
  artifact: string;
  maxAttempts: number;
  requestedBy: string | null;
  branchOverrideBy: string | null;
}

/** Appends a QUEUED build; FIFO position is its created_at (database clock), then its id. */
export async function insertBuild(sql: SqlRunner, row: EnqueueRow): Promise<number> {
  const { insertId } = await sql.execute(
    {
      mysql: `INSERT INTO builds (service, commit_sha, artifact, status, created_at, attempts, max_attempts, requested_by, branch_override_by)
              VALUES (?, ?, ?, 'QUEUED', UTC_TIMESTAMP(3), 0, ?, ?, ?)`,
      sqlite: `INSERT INTO builds (service, commit_sha, artifact, status, created_at, attempts, max_attempts, requested_by, branch_override_by)
               VALUES (?, ?, ?, 'QUEUED', strftime('%Y-%m-%d %H:%M:%f', 'now'), 0, ?, ?, ?)`,
    },
    [row.service, row.commit, row.artifact, row.maxAttempts, row.requestedBy, row.branchOverrideBy],
  );
  return insertId;
}

/** Serializes submissions for one service (SQLite's BEGIN IMMEDIATE already does). */
export async function lockService(sql: SqlRunner, service: string): Promise<void> {
  if (sql.dialect === 'mysql') await sql.query(`SELECT name FROM services WHERE name = ? FOR UPDATE`, [service]);
}

/** The newest QUEUED or RUNNING build of this exact commit (or, `anyStatus`, the newest of any status), if any. */
export async function findActiveBuild(sql: SqlRunner, service: string, commit: string, anyStatus = false): Promise<number | null> {
  const [row] = await sql.query<{ id: number }>(
    anyStatus
      ? `SELECT id FROM builds WHERE service = ? AND commit_sha = ? ORDER BY id DESC LIMIT 1`
      : `SELECT id FROM builds WHERE service = ? AND commit_sha = ? AND status IN ('QUEUED', 'RUNNING') ORDER BY id DESC LIMIT 1`,
    [service, commit],
  );
  return row ? Number(row.id) : null;
}
