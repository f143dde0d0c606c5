import type { SqlRunner } from '../../entities/index.ts';
import type { Claim } from '../claim.ts';
import type { JobTable } from '../job-table.ts';

/** Proves the claim is alive. 0 rows: the claim was taken back, or the job was cancelled. */
export async function touchHeartbeat(sql: SqlRunner, t: JobTable, claim: Claim): Promise<boolean> {
  const { affected } = await sql.execute(
    {
      mysql: `UPDATE ${t.table} SET last_heartbeat = UTC_TIMESTAMP(3)
               WHERE id = ? AND claim_token = ? AND status = '${t.running}'`,
      sqlite: `UPDATE ${t.table} SET last_heartbeat = strftime('%Y-%m-%d %H:%M:%f', 'now')
                WHERE id = ? AND claim_token = ? AND status = '${t.running}'`,
    },
    [claim.id, claim.token],
  );
  return affected === 1;
}
