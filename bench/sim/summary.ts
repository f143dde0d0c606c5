import type { FleetResult } from './fleet.ts';
import { GiB } from './params.ts';

export function minutes(seconds: number | null): string {
  return seconds === null ? 'never' : `${(seconds / 60).toFixed(1)} min`;
}

/** What `bench/sim/main.ts` prints: the timeline, the percentiles, the bytes, against the targets. */
export function formatFleetResult(r: FleetResult): string {
  const p = r.params;
  const tb = (bytes: number) => `${(bytes / 1e12).toFixed(1)} TB`;
  const lines = [
    `fleet: ${p.machines} machines × ${p.regions} regions, ${(p.size / GiB).toFixed(2)} GiB, ${p.seedersPerRegion} seeders/region, waves ${p.wavePlan}${p.canaryShare === null ? '' : ` (first ${p.canaryShare} % of r0)`}${p.prefetch ? ' with prefetch' : ''}, fallback after ${p.bucketFallbackS} s (first peer within ${Math.max(p.seederWaitS, p.bucketFallbackS)} s)`,
    `calibration: ${p.peer.source} (first byte ${p.peer.timeToFirstByteS.toFixed(2)} s, upload efficiency ${p.peer.uploadEfficiency.toFixed(2)}, verify ${(p.peer.verifyRate / 1e6).toFixed(0)} MB/s, core preparation ${(p.peer.corePrepRate / 1e6).toFixed(0)} MB/s)`,
    `build done ${minutes(r.buildDoneAt)}, deployable ${minutes(r.deployableAt)} (every region replicated), first wave written then`,
    ...r.regions.map(
      (t) =>
        `  ${t.region} wave ${t.wave} (${Math.round(t.machines)} machines): replicated ${minutes(t.replicatedAt)}, seeders ready ${minutes(t.seederReadyAt)}, goal ${minutes(t.goalAt)}, settled ${minutes(t.settledAt)}` +
        (t.outcome.fellBack > 0 ? `, ${Math.round(t.outcome.fellBack)} machines fell back to the bucket` : ''),
    ),
    `time to 50 / 99 / 100 % of live machines: ${minutes(r.t50)} / ${minutes(r.t99)} / ${minutes(r.t100)} (from the build's start)`,
    `deploy phase: ${minutes(r.deployS)} (lower bound ${minutes(r.deployLowerBoundS)}; target ≤ 10 min) — total ${minutes(r.t100)} (lower bound ${minutes(r.totalLowerBoundS)}; target ≤ 30 min)`,
    `bytes: bucket ${tb(r.bytesFromBucket)} (seeders' cores ${tb(r.bucketBytesForCores)}), seeders → agents ${tb(r.bytesFromSeeders)}, agents → agents ${tb(r.bytesFromPeers)}; ${Math.round(r.machinesFellBack)} machines fell back`,
    `simulated in ${r.wallS.toFixed(1)} s`,
  ];
  return lines.join('\n');
}
