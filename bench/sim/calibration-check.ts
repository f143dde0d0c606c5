// The simulator at small N against the measured swarms of calibration.ts: same caps, same sizes.
import { planGroups } from './machine-groups.ts';
import { defaultParams, type PeerCalibration } from './params.ts';
import { simulateRegion } from './region-swarm-model.ts';

/** One measured swarm: a capped serving peer and N capped machines fetching one build at once. */
export interface SwarmRun {
  machines: number;
  size: number;
  seederUpload: number;
  agentUpload: number;
  agentDownload: number;
  /** Seconds from the fetches' start to each machine's verified file, sorted. */
  doneS: number[];
}

export interface CalibrationCheck {
  run: SwarmRun;
  /** Simulated seconds to the median and the last machine's verified file. */
  simulatedMedianS: number;
  simulatedLastS: number;
  measuredMedianS: number;
  measuredLastS: number;
  /** Simulated ÷ measured, median machine. */
  ratio: number;
  lowerBoundS: number;
}

/** Simulated seconds until the median machine and the last one hold the verified file. */
export function simulateRun(run: Omit<SwarmRun, 'doneS'>, peer: PeerCalibration): { medianS: number; lastS: number } {
  const p = defaultParams();
  const groups = planGroups({
    machines: run.machines,
    tier1Machines: run.machines,
    stragglers: 0,
    stragglerFactor: 1,
    churn: 0,
    download: run.agentDownload,
    upload: run.agentUpload,
    timeToFirstByteS: peer.timeToFirstByteS,
  });
  const outcome = simulateRegion({
    size: run.size,
    groups,
    startAt: 0,
    seederReadyAt: 0,
    seeders: 1,
    seederUpload: run.seederUpload,
    maxPeers: p.maxPeers,
    window: p.window,
    blockSize: p.blockSize,
    // Loopback.
    rttS: 0.0002,
    verifyRate: peer.verifyRate,
    uploadEfficiency: peer.uploadEfficiency,
    seederEfficiency: peer.seederEfficiency,
    uploadLimit: null,
    bucketFallbackS: 3600,
    seederWaitS: 3600,
    bucketRatePerAgent: p.bucketRatePerAgent,
    bucketEgress: p.bucketEgress,
    installS: 0,
    silentAfterS: p.silentAfterS,
  });
  const done = outcome.groups.map((g) => ({ at: g.runningAt ?? Number.POSITIVE_INFINITY, n: g.n })).sort((a, b) => a.at - b.at);
  let count = 0;
  let medianS = Number.POSITIVE_INFINITY;
  for (const d of done) {
    count += d.n;
    if (count >= run.machines / 2 - 1e-9) {
      medianS = d.at;
      break;
    }
  }
  return { medianS, lastS: done[done.length - 1]!.at };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function checkCalibration(runs: SwarmRun[], peer: PeerCalibration): CalibrationCheck[] {
  return runs.map((run) => {
    const simulated = simulateRun(run, peer);
    const measuredLastS = run.doneS[run.doneS.length - 1]!;
    const measuredMedianS = median(run.doneS);
    const d = Math.min(run.agentDownload, peer.verifyRate);
    const lowerBoundS = Math.max(run.size / run.seederUpload, run.size / d, (run.machines * run.size) / (run.seederUpload + run.machines * run.agentUpload));
    return { run, simulatedMedianS: simulated.medianS, simulatedLastS: simulated.lastS, measuredMedianS, measuredLastS, ratio: simulated.medianS / measuredMedianS, lowerBoundS };
  });
}
