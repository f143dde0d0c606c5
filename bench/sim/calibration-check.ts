// The simulator at small N against the measured swarms of calibration.ts: same caps, same sizes.
import type { SwarmRun } from './calibration.ts';
import { planGroups } from './machine-groups.ts';
import { defaultParams, type PeerCalibration } from './params.ts';
import { simulateRegion } from './region-swarm-model.ts';

export interface CalibrationCheck {
  run: SwarmRun;
  /** Simulated seconds to the last machine's verified file. */
  simulatedLastS: number;
  measuredLastS: number;
  /** Simulated ÷ measured, last machine. */
  ratio: number;
  lowerBoundS: number;
}

export function simulateRun(run: Omit<SwarmRun, 'doneS'>, peer: PeerCalibration): number {
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
    bucketRatePerAgent: p.bucketRatePerAgent,
    bucketEgress: p.bucketEgress,
    installS: 0,
    silentAfterS: p.silentAfterS,
  });
  return Math.max(...outcome.groups.map((g) => g.runningAt ?? Number.POSITIVE_INFINITY));
}

export function checkCalibration(runs: SwarmRun[], peer: PeerCalibration): CalibrationCheck[] {
  return runs.map((run) => {
    const simulatedLastS = simulateRun(run, peer);
    const measuredLastS = run.doneS[run.doneS.length - 1]!;
    const d = Math.min(run.agentDownload, peer.verifyRate);
    const lowerBoundS = Math.max(run.size / run.seederUpload, run.size / d, (run.machines * run.size) / (run.seederUpload + run.machines * run.agentUpload));
    return { run, simulatedLastS, measuredLastS, ratio: simulatedLastS / measuredLastS, lowerBoundS };
  });
}
