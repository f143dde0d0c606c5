// What breaks the 30 minutes, and what the knobs do. Each case changes the base — the shipped
// defaults with FLEETCAST_AGENT_BUCKET_FALLBACK=5m, the one setting that the shipped defaults need
// (BENCHMARKS.md) — in one respect, on the 100,000 × 10 × 10 GiB deploy.
import { gbit, type PeerCalibration, type SimParams } from './params.ts';

export interface SensitivityCase {
  label: string;
  overrides: Partial<SimParams>;
  /** Changes to the calibrated peer figures. */
  peer?: Partial<PeerCalibration>;
}

export function sensitivityCases(): SensitivityCase[] {
  const base: Partial<SimParams> = { bucketFallbackS: 300 };
  const cases: [string, Partial<SimParams>][] = [
    ['shipped defaults (fallback 30 s)', { bucketFallbackS: 30 }],
    ['base: fallback 5 min', {}],
    ['fallback 2 min', { bucketFallbackS: 120 }],
    ['fallback 30 s, seeders without preheat', { bucketFallbackS: 30, preheat: false }],
    ['seeder upload 1 Gbit/s', { seederUpload: gbit(1) }],
    ['seeder upload 10 Gbit/s', { seederUpload: gbit(10) }],
    ['1 seeder per region', { seedersPerRegion: 1 }],
    ['8 seeders per region', { seedersPerRegion: 8 }],
    ['churn 1 %', { churn: 0.01 }],
    ['churn 5 %', { churn: 0.05 }],
    ['stragglers 1 % at 1/10 link', { stragglers: 0.01 }],
    ['stragglers 5 % at 1/10 link', { stragglers: 0.05 }],
    ['stragglers 1 % at 1/100 link', { stragglers: 0.01, stragglerFactor: 0.01 }],
    ['one slow region (buckets, replication, links at 1/4)', { slowRegions: 1 }],
    ['one slow region at 1/10', { slowRegions: 1, slowRegionFactor: 0.1 }],
    ['machine speed spread ±15 % (assumed)', { machineSpread: 0.15 }],
    ['waves all (no canary)', { wavePlan: 'all' }],
    ['canary soak 5 min (FLEETCAST_WAVE_SOAK)', { soakS: 300 }],
    ['agent upload limit 50 MB/s (FLEETCAST_P2P_UPLOAD_LIMIT)', { uploadLimit: 50e6 }],
    ['agent upload limit 200 MB/s', { uploadLimit: 200e6 }],
    ['agent links 1 Gbit/s', { agentDownload: gbit(1), agentUpload: gbit(1) }],
    ['max peers 8', { maxPeers: 8 }],
    ['regional replication 100 MB/s', { replicationRate: 100e6 }],
  ];
  const whatIfs: [string, Partial<SimParams>][] = [
    ['shipped defaults, bucket egress 1 Tbit/s per region', { bucketEgress: gbit(1000) }],
    ['product change: wave waits for its seeders (fallback 30 s)', { waveWaitsForSeeders: true }],
    ['product change: seeders serve while filling (fallback 30 s)', { streamingSeeders: true }],
    ['product change: both, and waves all (fallback 30 s)', { waveWaitsForSeeders: true, streamingSeeders: true, wavePlan: 'all' }],
  ];
  return [
    ...whatIfs.map(([label, overrides]) => ({ label, overrides })),
    ...cases.map(([label, overrides]) => ({ label, overrides: { ...base, ...overrides } })),
    { label: 'verify rate 200 MB/s (a production core instead of this VM)', overrides: base, peer: { verifyRate: 200e6 } },
    { label: 'shipped defaults with verify rate 200 MB/s', overrides: {}, peer: { verifyRate: 200e6 } },
  ];
}
