// Leases between coordinators, one statement per operation, dialects side by side. Expiry is
// the database's clock (UTC_TIMESTAMP / strftime 'now'), never a coordinator's: two coordinators
// whose clocks differ still agree on when a lease ran out.
import { durationParam, type SqlRunner } from '../../../entities/index.ts';

const nowMysql = 'UTC_TIMESTAMP(3)';
const nowSqlite = "strftime('%Y-%m-%d %H:%M:%f', 'now')";

/** Creates the lease for `holder` if nobody has it; false if a row is already there. */
export async function insertLeaseIfAbsent(db: SqlRunner, name: string, holder: string, ttlMs: number): Promise<boolean> {
  const result = await db.execute(
    {
      mysql: `INSERT IGNORE INTO leases (name, holder, expires_at) VALUES (?, ?, ${nowMysql} + INTERVAL ? MICROSECOND)`,
      sqlite: `INSERT OR IGNORE INTO leases (name, holder, expires_at) VALUES (?, ?, strftime('%Y-%m-%d %H:%M:%f', 'now', ?))`,
    },
    [name, holder, durationParam(db.dialect, ttlMs, 'ahead')],
  );
  return result.affected > 0;
}

/**
 * Renews the lease if `holder` has it, or takes it if its holder let it expire. An UPDATE
 * re-reads the row it locks, so of two coordinators taking an expired lease at once one wins.
 */
export async function renewOrTakeExpiredLease(db: SqlRunner, name: string, holder: string, ttlMs: number): Promise<boolean> {
  const result = await db.execute(
    {
      mysql: `UPDATE leases SET holder = ?, expires_at = ${nowMysql} + INTERVAL ? MICROSECOND WHERE name = ? AND (holder = ? OR expires_at < ${nowMysql})`,
      sqlite: `UPDATE leases SET holder = ?, expires_at = strftime('%Y-%m-%d %H:%M:%f', 'now', ?) WHERE name = ? AND (holder = ? OR expires_at < ${nowSqlite})`,
    },
    [holder, durationParam(db.dialect, ttlMs, 'ahead'), name, holder],
  );
  return result.affected > 0;
}

/** Renews the lease only if `holder` still has it (the fencing check before a write). */
export async function renewHeldLease(db: SqlRunner, name: string, holder: string, ttlMs: number): Promise<boolean> {
  const result = await db.execute(
    {
      mysql: `UPDATE leases SET expires_at = ${nowMysql} + INTERVAL ? MICROSECOND WHERE name = ? AND holder = ?`,
      sqlite: `UPDATE leases SET expires_at = strftime('%Y-%m-%d %H:%M:%f', 'now', ?) WHERE name = ? AND holder = ?`,
    },
    [durationParam(db.dialect, ttlMs, 'ahead'), name, holder],
  );
  return result.affected > 0;
}

/** Hands the lease to `holder` whoever has it: a person's abort takes the rollout over to roll it back. */
export async function takeLease(db: SqlRunner, name: string, holder: string, ttlMs: number): Promise<void> {
  if (await insertLeaseIfAbsent(db, name, holder, ttlMs)) return;
  await db.execute(
    {
      mysql: `UPDATE leases SET holder = ?, expires_at = ${nowMysql} + INTERVAL ? MICROSECOND WHERE name = ?`,
      sqlite: `UPDATE leases SET holder = ?, expires_at = strftime('%Y-%m-%d %H:%M:%f', 'now', ?) WHERE name = ?`,
    },
    [holder, durationParam(db.dialect, ttlMs, 'ahead'), name],
  );
}

export async function deleteLease(db: SqlRunner, name: string, holder: string): Promise<void> {
  await db.execute(`DELETE FROM leases WHERE name = ? AND holder = ?`, [name, holder]);
}

export async function selectLeaseHolder(db: SqlRunner, name: string): Promise<string | null> {
  const rows = await db.query<{ holder: string }>(`SELECT holder FROM leases WHERE name = ?`, [name]);
  return rows[0]?.holder ?? null;
}

/** Leases nobody renewed for `ms`: those of rollouts that ended without their holder letting go (superseded, holder dead). */
export async function deleteExpiredLeases(db: SqlRunner, ms: number): Promise<void> {
  await db.execute(
    {
      mysql: `DELETE FROM leases WHERE expires_at < ${nowMysql} - INTERVAL ? MICROSECOND`,
      sqlite: `DELETE FROM leases WHERE expires_at < strftime('%Y-%m-%d %H:%M:%f', 'now', ?)`,
    },
    [durationParam(db.dialect, ms, 'ago')],
  );
}
