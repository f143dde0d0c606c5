// What breaks the 30 minutes, and what the knobs do. Each case changes the base — the shipped
// defaults (FLEETCAST_AGENT_SEEDER_WAIT 5 min, FLEETCAST_AGENT_BUCKET_FALLBACK 30 s) — in one
// respect, on the 100,000 × 10 × 10 GiB deploy. `before the seeder wait` is the code before
// FLEETCAST_AGENT_SEEDER_WAIT existed: 30 s from the fetch's start.
import { gbit, type PeerCalibration, type SimParams } from './params.ts';

export interface SensitivityCase {
  label: string;
  overrides: Partial<SimParams>;
  /** Changes to the calibrated peer figures. */
  peer?: Partial<PeerCalibration>;
}

export function sensitivityCases(): SensitivityCase[] {
  const base: Partial<SimParams> = {};
  const before = { seederWaitS: 0 };
  const cases: [string, Partial<SimParams>][] = [
    ['before the seeder wait (fallback 30 s from the start)', before],
    ['base: shipped defaults (seeder wait 5 min, stall fallback 30 s)', {}],
    ['seeder wait 2 min', { seederWaitS: 120 }],
    ['seeder wait 1 min', { seederWaitS: 60 }],
    ['stall fallback 5 min', { bucketFallbackS: 300 }],
    ['seeders without preheat', { preheat: false }],
    ['before the seeder wait, seeders without preheat', { ...before, preheat: false }],
    ['seeder upload 1 Gbit/s', { seederUpload: gbit(1) }],
    ['seeder upload 10 Gbit/s', { seederUpload: gbit(10) }],
    ['1 seeder per region', { seedersPerRegion: 1 }],
    ['8 seeders per region', { seedersPerRegion: 8 }],
    ['churn 1 %', { churn: 0.01 }],
    ['churn 5 %', { churn: 0.05 }],
    ['stragglers 1 % at 1/10 link', { stragglers: 0.01 }],
    ['stragglers 5 % at 1/10 link', { stragglers: 0.05 }],
    ['stragglers 1 % at 1/100 link', { stragglers: 0.01, stragglerFactor: 0.01 }],
    ['stragglers 1 % at 1/100 link, FLEETCAST_WAVE_MIN_DONE 0.98', { stragglers: 0.01, stragglerFactor: 0.01, minDoneFraction: 0.98 }],
    ['one slow region (buckets, replication, links at 1/4)', { slowRegions: 1 }],
    ['one slow region at 1/10', { slowRegions: 1, slowRegionFactor: 0.1 }],
    ['machine speed spread ±15 % (assumed)', { machineSpread: 0.15 }],
    ['without prefetch (FLEETCAST_DEPLOY_PREFETCH=false)', { prefetch: false }],
    ['waves all (no canary)', { wavePlan: 'all' }],
    ['canary soak 5 min (FLEETCAST_WAVE_SOAK)', { soakS: 300 }],
    ['agent upload limit 50 MB/s (FLEETCAST_P2P_UPLOAD_LIMIT)', { uploadLimit: 50e6 }],
    ['agent upload limit 200 MB/s', { uploadLimit: 200e6 }],
    ['agent links 1 Gbit/s', { agentDownload: gbit(1), agentUpload: gbit(1) }],
    ['max peers 8', { maxPeers: 8 }],
    ['regional replication 100 MB/s', { replicationRate: 100e6 }],
  ];
  const whatIfs: [string, Partial<SimParams>][] = [
    ['before the seeder wait, bucket egress 1 Tbit/s per region', { ...before, bucketEgress: gbit(1000) }],
    ['product change: wave waits for its seeders (before the seeder wait)', { ...before, waveWaitsForSeeders: true }],
    ['product change: seeders serve while filling', { streamingSeeders: true }],
    ['product change: seeders serve while filling, and waves all', { streamingSeeders: true, wavePlan: 'all' }],
    ['product change: seeders serve while filling, without prefetch', { streamingSeeders: true, prefetch: false }],
  ];
  return [
    ...whatIfs.map(([label, overrides]) => ({ label, overrides })),
    ...cases.map(([label, overrides]) => ({ label, overrides: { ...base, ...overrides } })),
    { label: 'verify rate 200 MB/s (a production core instead of this VM)', overrides: base, peer: { verifyRate: 200e6 } },
    { label: 'before the seeder wait, with verify rate 200 MB/s', overrides: before, peer: { verifyRate: 200e6 } },
  ];
}
