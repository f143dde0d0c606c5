import { randomBytes } from 'node:crypto';
import type { Build, BuildQueue } from '../../coordinator/index.ts';
import type { Database } from '../../entities/index.ts';

/**
 * A SUCCEEDED build of `service` with a DONE copy in each region but `missing`, written
 * straight into the queue and the replications table: deploys can be tested without
 * builders, buckets or replicators (run the coordinator with FLEETCAST_REPLICATION_CONCURRENCY=0).
 * `artifact` stores real bytes for the build id (for real agents) and gives their digest and size;
 * `commit` is the build's commit (a random sha when not given).
 */
export async function deployableBuild(
  handle: { queue: BuildQueue; db: Database },
  service: string,
  regions: string[],
  missing: string[] = [],
  artifact?: (buildId: number) => Promise<{ digest: string; size: number }>,
  commit = randomBytes(20).toString('hex'),
): Promise<Build> {
  const { queue, db } = handle;
  const { build } = await queue.submit({ service, commit });
  const claimed = await queue.claim('test-builder');
  if (claimed?.build.id !== build.id) throw new Error(`claimed ${claimed?.build.id} instead of ${build.id}: another build was QUEUED`);
  const { digest, size } = artifact ? await artifact(build.id) : { digest: randomBytes(32).toString('hex'), size: 1234 };
  const done = await queue.succeed(claimed.claim, { digest, size });
  for (const region of regions.filter((r) => !missing.includes(r))) {
    await db.execute(
      {
        mysql: `INSERT INTO replications (build_id, region, object_name, digest, size, status, created_at, finished_at, audited_at, max_attempts)
                VALUES (?, ?, ?, ?, ?, 'DONE', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), 5)
                ON DUPLICATE KEY UPDATE status = 'DONE', finished_at = UTC_TIMESTAMP(3), audited_at = UTC_TIMESTAMP(3)`,
        sqlite: `INSERT INTO replications (build_id, region, object_name, digest, size, status, created_at, finished_at, audited_at, max_attempts)
                 VALUES (?, ?, ?, ?, ?, 'DONE', strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now'), 5)
                 ON CONFLICT (build_id, region) DO UPDATE SET status = 'DONE'`,
      },
      [build.id, region, `artifacts/${service}/b${build.id}/${digest}`, digest, size],
    );
  }
  return done;
}
