import type { SqlRunner } from '../../../entities/index.ts';
import type { Claim } from '../build.ts';

/** Proves the claim is alive. 0 rows: the claim was taken back, or the build was cancelled. */
export async function touchHeartbeat(sql: SqlRunner, claim: Claim): Promise<boolean> {
  const { affected } = await sql.execute(
    {
      mysql: `UPDATE builds SET last_heartbeat = UTC_TIMESTAMP(3)
               WHERE id = ? AND claim_token = ? AND status = 'RUNNING'`,
      sqlite: `UPDATE builds SET last_heartbeat = strftime('%Y-%m-%d %H:%M:%f', 'now')
                WHERE id = ? AND claim_token = ? AND status = 'RUNNING'`,
    },
    [claim.buildId, claim.token],
  );
  return affected === 1;
}
