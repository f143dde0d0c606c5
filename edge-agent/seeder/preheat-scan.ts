import { parseArtifactObjectName, type BlobStore } from '../../blobstore/index.ts';

/** A build's artifact as the regional bucket lists it. */
export interface BucketArtifact {
  service: string;
  build: string;
  digest: string;
  size: number;
  /** Its object name. */
  artifact: string;
}

/**
 * The newest `perService` artifacts of each service in the regional bucket, newest first.
 *
 * Why the bucket and not the coordinator's API: an object appears in a regional bucket only
 * once a replicator copied and verified it, so the listing is exactly "builds this region can
 * deploy" as far as this seeder can serve them; it needs no API token, keeps working while the
 * coordinator is down, and stays inside the region. A build that is in this region but not yet in
 * every other one gets preheated a little early, which is the point of preheating. One listing
 * per scan interval is cheap next to the artifacts it prepares.
 */
export async function newestArtifacts(store: BlobStore, perService: number): Promise<BucketArtifact[]> {
  if (perService === 0) return [];
  const byService = new Map<string, BucketArtifact[]>();
  for await (const { name, size } of store.list('artifacts/')) {
    const parsed = parseArtifactObjectName(name);
    if (!parsed) continue;
    const list = byService.get(parsed.service) ?? [];
    list.push({ service: parsed.service, build: `b${parsed.buildId}`, digest: parsed.digest, size, artifact: name });
    byService.set(parsed.service, list);
  }
  const newest: BucketArtifact[] = [];
  for (const list of byService.values()) {
    list.sort((a, b) => buildNumber(b.build) - buildNumber(a.build));
    newest.push(...list.slice(0, perService));
  }
  return newest.sort((a, b) => buildNumber(b.build) - buildNumber(a.build));
}

function buildNumber(build: string): number {
  return Number(build.slice(1));
}
