import type { Database } from '../../../entities/index.ts';
import type { BuildRow } from '../build.ts';

/**
 * Hands the oldest QUEUED build to one worker, never to two.
 *
 * MariaDB: one short READ COMMITTED transaction; SKIP LOCKED lets concurrent claimers pass over
 * a row another claimer holds instead of waiting for it or taking it too (NOTES.md measured the
 * unlocked SELECT-then-UPDATE form handing one job to many workers). The UPDATE re-checks the
 * status so it is safe even if the lock were lost. The statements travel as one batch, so the
 * row lock is held for no network round trip: that is what keeps 32 claimers from queueing up
 * behind each other.
 *
 * SQLite: a single writer, so one UPDATE … WHERE id = (oldest) … RETURNING is atomic.
 */
export const mysqlClaimBatch = `
  SET @claim_id = NULL, @claimed_at = NULL;
  SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
  START TRANSACTION;
  SELECT id, UTC_TIMESTAMP(3) INTO @claim_id, @claimed_at
    FROM builds
   WHERE status = 'QUEUED'
   ORDER BY created_at, id
   LIMIT 1
     FOR UPDATE SKIP LOCKED;
  UPDATE builds
     SET status = 'RUNNING', claimed_by = ?, claim_token = ?, attempts = attempts + 1,
         started_at = @claimed_at, last_heartbeat = @claimed_at
   WHERE id = @claim_id AND status = 'QUEUED';
  COMMIT;
  SELECT * FROM builds WHERE id = @claim_id AND claim_token = ?;`;

export const sqliteClaim = `
  UPDATE builds
     SET status = 'RUNNING', claimed_by = ?, claim_token = ?, attempts = attempts + 1,
         started_at = strftime('%Y-%m-%d %H:%M:%f', 'now'), last_heartbeat = strftime('%Y-%m-%d %H:%M:%f', 'now')
   WHERE id = (SELECT id FROM builds WHERE status = 'QUEUED' ORDER BY created_at, id LIMIT 1)
     AND status = 'QUEUED'
  RETURNING *`;

export async function claimOldestQueued(db: Database, workerId: string, token: string): Promise<BuildRow | null> {
  if (db.dialect === 'sqlite') {
    const [row] = await db.query(sqliteClaim, [workerId, token]);
    return row ?? null;
  }
  const results = await db.batch(mysqlClaimBatch, [workerId, token, token]);
  const claimed = results.at(-1) as BuildRow[];
  return claimed[0] ?? null;
}
