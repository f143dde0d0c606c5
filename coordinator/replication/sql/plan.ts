import { durationParam, type SqlRunner } from '../../../entities/index.ts';

export interface UnplannedBuild {
  id: number;
  service: string;
  digest: string;
  size: number;
  finishedAt: unknown;
}

/** SUCCEEDED builds finished within `lookbackMs` that have no replication row for `region`. */
export async function findUnplanned(sql: SqlRunner, region: string, lookbackMs: number, limit: number): Promise<UnplannedBuild[]> {
  const rows = await sql.query(
    {
      mysql: `SELECT b.id, b.service, b.digest, b.size, b.finished_at
                FROM builds b
               WHERE b.status = 'SUCCEEDED' AND b.finished_at >= UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND
                 AND NOT EXISTS (SELECT 1 FROM replications r WHERE r.build_id = b.id AND r.region = ?)
               ORDER BY b.finished_at, b.id
               LIMIT ${Math.trunc(limit)}`,
      sqlite: `SELECT b.id, b.service, b.digest, b.size, b.finished_at
                 FROM builds b
                WHERE b.status = 'SUCCEEDED' AND b.finished_at >= strftime('%Y-%m-%d %H:%M:%f', 'now', ?)
                  AND NOT EXISTS (SELECT 1 FROM replications r WHERE r.build_id = b.id AND r.region = ?)
                ORDER BY b.finished_at, b.id
                LIMIT ${Math.trunc(limit)}`,
    },
    [durationParam(sql.dialect, lookbackMs), region],
  );
  return rows.map((row) => ({
    id: Number(row.id),
    service: String(row.service),
    digest: String(row.digest),
    size: Number(row.size),
    finishedAt: row.finished_at,
  }));
}

export interface PlannedCopy {
  buildId: number;
  region: string;
  objectName: string;
  digest: string;
  size: number;
  maxAttempts: number;
}

/** Adds a PENDING copy; a row that already exists (another coordinator was faster) is left alone. */
export async function insertReplication(sql: SqlRunner, copy: PlannedCopy): Promise<boolean> {
  const { affected } = await sql.execute(
    {
      mysql: `INSERT IGNORE INTO replications (build_id, region, object_name, digest, size, status, created_at, attempts, max_attempts)
              VALUES (?, ?, ?, ?, ?, 'PENDING', UTC_TIMESTAMP(3), 0, ?)`,
      sqlite: `INSERT OR IGNORE INTO replications (build_id, region, object_name, digest, size, status, created_at, attempts, max_attempts)
               VALUES (?, ?, ?, ?, ?, 'PENDING', strftime('%Y-%m-%d %H:%M:%f', 'now'), 0, ?)`,
    },
    [copy.buildId, copy.region, copy.objectName, copy.digest, copy.size, copy.maxAttempts],
  );
  return affected === 1;
}
