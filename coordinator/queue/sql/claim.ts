import type { Database } from '../../../entities/index.ts';
import type { BuildRow } from '../build.ts';

/**
 * Hands the oldest QUEUED build to one worker, never to two.
 *
 * MariaDB: one short READ COMMITTED transaction; SKIP LOCKED lets concurrent claimers pass over
 * a row another claimer holds instead of waiting for it or taking it too (NOTES.md measured the
 * unlocked SELECT-then-UPDATE form handing one job to many workers). The UPDATE re-checks the
 * status so it is safe even if the lock were lost.
 *
 * SQLite: a single writer, so one UPDATE … WHERE id = (oldest) … RETURNING is atomic.
 */
export async function claimOldestQueued(db: Database, workerId: string, token: string): Promise<BuildRow | null> {
  if (db.dialect === 'sqlite') {
    const rows = await db.query(
      `UPDATE builds
          SET status = 'RUNNING', claimed_by = ?, claim_token = ?, attempts = attempts + 1,
              started_at = strftime('%Y-%m-%d %H:%M:%f', 'now'), last_heartbeat = strftime('%Y-%m-%d %H:%M:%f', 'now')
        WHERE id = (SELECT id FROM builds WHERE status = 'QUEUED' ORDER BY created_at, id LIMIT 1)
          AND status = 'QUEUED'
       RETURNING *`,
      [workerId, token],
    );
    return rows[0] ?? null;
  }

  return db.transaction(async (tx) => {
    const [row] = await tx.query(
      `SELECT b.*, UTC_TIMESTAMP(3) AS claimed_at
         FROM builds b
        WHERE status = 'QUEUED'
        ORDER BY created_at, id
        LIMIT 1
          FOR UPDATE SKIP LOCKED`,
    );
    if (!row) return null;
    const { affected } = await tx.execute(
      `UPDATE builds
          SET status = 'RUNNING', claimed_by = ?, claim_token = ?, attempts = attempts + 1,
              started_at = ?, last_heartbeat = ?
        WHERE id = ? AND status = 'QUEUED'`,
      [workerId, token, row.claimed_at, row.claimed_at, row.id],
    );
    if (affected !== 1) return null;
    const { claimed_at: claimedAt, ...build } = row;
    return {
      ...build,
      status: 'RUNNING',
      claimed_by: workerId,
      claim_token: token,
      attempts: Number(build.attempts) + 1,
      started_at: claimedAt,
      last_heartbeat: claimedAt,
    };
  }, 'READ COMMITTED');
}
