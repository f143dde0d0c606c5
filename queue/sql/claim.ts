import type { Database } from '../../entities/index.ts';
import type { JobTable } from '../job-table.ts';

type Row = Record<string, unknown>;

/**
 * Hands the oldest claimable job to one worker, never to two.
 *
 * MariaDB: one short READ COMMITTED transaction; SKIP LOCKED lets concurrent claimers pass over
 * a row another claimer holds instead of waiting for it or taking it too (NOTES.md measured the
 * unlocked SELECT-then-UPDATE form handing one job to many workers). The UPDATE re-checks the
 * status so it is safe even if the lock were lost. The statements travel as one batch, so the
 * row lock is held for no network round trip: that is what keeps 32 claimers from queueing up
 * behind each other.
 *
 * SQLite: a single writer, so one UPDATE … WHERE id = (oldest) … RETURNING is atomic.
 *
 * Parameters of both: worker id, token, [partition value]; the MariaDB batch takes the token
 * once more at the end to read the claimed row back.
 */
export function mysqlClaimBatch(t: JobTable): string {
  return `
  SET @claim_id = NULL, @claimed_at = NULL;
  SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
  START TRANSACTION;
  SELECT id, UTC_TIMESTAMP(3) INTO @claim_id, @claimed_at
    FROM ${t.table}
   WHERE status = '${t.queued}'${claimableFilter(t, 'UTC_TIMESTAMP(3)')}
   ORDER BY created_at, id
   LIMIT 1
     FOR UPDATE SKIP LOCKED;
  UPDATE ${t.table}
     SET status = '${t.running}', claimed_by = ?, claim_token = ?, attempts = attempts + 1,
         started_at = @claimed_at, last_heartbeat = @claimed_at
   WHERE id = @claim_id AND status = '${t.queued}';
  COMMIT;
  SELECT * FROM ${t.table} WHERE id = @claim_id AND claim_token = ?;`;
}

export function sqliteClaim(t: JobTable): string {
  return `
  UPDATE ${t.table}
     SET status = '${t.running}', claimed_by = ?, claim_token = ?, attempts = attempts + 1,
         started_at = strftime('%Y-%m-%d %H:%M:%f', 'now'), last_heartbeat = strftime('%Y-%m-%d %H:%M:%f', 'now')
   WHERE id = (SELECT id FROM ${t.table}
                WHERE status = '${t.queued}'${claimableFilter(t, "strftime('%Y-%m-%d %H:%M:%f', 'now')")}
                ORDER BY created_at, id LIMIT 1)
     AND status = '${t.queued}'
  RETURNING *`;
}

function claimableFilter(t: JobTable, now: string): string {
  let filter = '';
  if (t.partitionColumn) filter += ` AND ${t.partitionColumn} = ?`;
  if (t.availableColumn) filter += ` AND (${t.availableColumn} IS NULL OR ${t.availableColumn} <= ${now})`;
  return filter;
}

export async function claimOldest(db: Database, t: JobTable, workerId: string, token: string, partition?: string): Promise<Row | null> {
  if (t.partitionColumn && partition === undefined) throw new Error(`claims of ${t.table} name a ${t.partitionColumn}`);
  const where = t.partitionColumn ? [partition] : [];
  if (db.dialect === 'sqlite') {
    // The partition placeholder sits in the subquery, after the SET's two.
    const [row] = await db.query(sqliteClaim(t), [workerId, token, ...where]);
    return row ?? null;
  }
  // The partition placeholder comes first (in the SELECT), then the UPDATE's, then the read-back.
  const results = await db.batch(mysqlClaimBatch(t), [...where, workerId, token, token]);
  const claimed = results.at(-1) as Row[];
  return claimed[0] ?? null;
}
