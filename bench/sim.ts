// npm run bench -- sim: the fleet simulator (bench/sim/), calibrated on the real P2P code.
// Quick: calibration on tiny swarms and a small fleet. Full: the 100,000 × 10 × 10 GiB deploy,
// the sweep over fleet and artifact size (bench/results/sim-sweep.svg) and the sensitivity table.
import fs from 'node:fs';
import path from 'node:path';
import { resultsDir, row, writeResult, type Benchmark, type BenchRow } from './report.ts';
import { checkCalibration, simulateRun } from './sim/calibration-check.ts';
import { loadCalibration, p2pScalingRuns, type MeasuredScalingRun } from './sim/calibration-source.ts';
import { fittedRunIndex, measureCalibration, type SwarmRun } from './sim/calibration.ts';
import { simulateFleet, type FleetResult } from './sim/fleet.ts';
import { defaultParams, GiB, type PeerCalibration } from './sim/params.ts';
import { sensitivityCases } from './sim/sensitivity.ts';
import { sweepSvg, type SweepPoint } from './sim/sweep-svg.ts';

const min = (s: number | null) => (s === null ? -1 : s / 60);
const tb = (bytes: number) => bytes / 1e12;

/** The deploy's rows; `judged: false` for what-ifs and old behaviour, shown beside the targets but not held to them. */
function fleetRows(label: string, r: FleetResult, judged = true): BenchRow[] {
  const total = r.t100;
  const judge = (target: string, pass: boolean) => (judged ? { target, pass } : {});
  return [
    row(`${label}: time to 50 % of machines`, min(r.t50), 'min', { baseline: r.totalLowerBoundS / 60, higherIsBetter: false }),
    row(`${label}: time to 99 % of machines`, min(r.t99), 'min', { baseline: r.totalLowerBoundS / 60, higherIsBetter: false }),
    row(`${label}: time to 100 % of machines (build + deploy)`, min(total), 'min', { baseline: r.totalLowerBoundS / 60, higherIsBetter: false, ...judge('<= 30 min', total !== null && total <= 1800) }),
    row(`${label}: deploy phase (first goal write → 100 %)`, min(r.deployS), 'min', { baseline: r.deployLowerBoundS / 60, higherIsBetter: false, ...judge('<= 10 min', r.deployS !== null && r.deployS <= 600) }),
    row(`${label}: bytes from buckets (seeders' cores + agents' fallback)`, tb(r.bytesFromBucket), 'TB'),
    row(`${label}: bytes from peers (seeders + agents)`, tb(r.bytesFromSeeders + r.bytesFromPeers), 'TB'),
    row(`${label}: machines that fell back to the bucket`, r.machinesFellBack, 'machines'),
  ];
}

/** A measured swarm's size and caps, as its check rows name it. */
function swarmLabel(run: Omit<SwarmRun, 'doneS'>): string {
  const mib = (bytes: number) => bytes / 2 ** 20;
  return `${run.machines} machines, ${mib(run.size)} MiB, seeder ${mib(run.seederUpload)} / agents ${mib(run.agentUpload)} up ${mib(run.agentDownload)} down MiB/s`;
}

/**
 * calibration.ts's swarms run every machine in this one process, on one JavaScript thread that
 * receives, verifies and serves for all of them (tens of ms of CPU per MiB). Measured 2026-12-03,
 * the swarms moved 14, 15 and 20 MiB/s in all at 4, 8 and 12 machines — flat, where their lower
 * bounds ask 16, 24 and 32: from 8 machines on the thread, not the swarm, is measured. Those
 * runs are shown, not judged, when bench/p2p's runs (a process per agent) are there instead.
 */
const oneThreadBoundFrom = 8;

async function calibrate(quick: boolean, judgeLargeInProcess: boolean): Promise<{ peer: PeerCalibration; rows: BenchRow[] }> {
  const measured = await measureCalibration({ quick });
  const rows: BenchRow[] = [
    row('calibration: time to first byte (local DHT, one machine)', measured.peer.timeToFirstByteS, 's'),
    row('calibration: verify rate (one machine, no caps)', measured.peer.verifyRate / 1e6, 'MB/s'),
    row('calibration: seeder core preparation from the regional bucket', measured.peer.corePrepRate / 1e6, 'MB/s'),
    row('calibration: seeder upload delivered vs its cap (1 machine)', measured.peer.seederEfficiency, 'ratio'),
    row(`calibration: agent upload efficiency (fitted on the ${measured.runs[fittedRunIndex(measured.runs)]!.machines}-machine run)`, measured.peer.uploadEfficiency, 'ratio'),
  ];
  const fittedMachines = measured.runs[fittedRunIndex(measured.runs)]!.machines;
  for (const check of checkCalibration(measured.runs, measured.peer)) {
    const { run } = check;
    const within = check.ratio >= 0.75 && check.ratio <= 1.33;
    const what = swarmLabel(run);
    const fitted = run.machines === fittedMachines;
    const judged = !fitted && (judgeLargeInProcess || run.machines < oneThreadBoundFrom);
    rows.push(
      row(`calibration check: ${what}: simulated median machine vs measured (lower bound ${check.lowerBoundS.toFixed(1)} s)`, check.simulatedMedianS, 's', {
        baseline: check.measuredMedianS,
        higherIsBetter: true,
        target: fitted ? 'fitted' : judged ? 'within 0.75–1.33 of measured' : 'shown (one process: its thread limits); bench/p2p runs judged',
        pass: judged ? within : null,
      }),
      row(`calibration check: ${what}: simulated last machine vs measured`, check.simulatedLastS, 's', { baseline: check.measuredLastS, higherIsBetter: true }),
    );
  }
  if (!quick) writeResult('sim-calibration', rows, { at: new Date().toISOString(), runs: measured.runs, peer: measured.peer });
  return { peer: measured.peer, rows };
}

/**
 * The simulator against bench/p2p's N-scaling runs (one process per agent, as on a fleet), when
 * that benchmark ran: the last machine's time, simulated ÷ measured, within ±25 %.
 */
function processSwarmChecks(runs: MeasuredScalingRun[], peer: PeerCalibration): BenchRow[] {
  return runs.flatMap((run) => {
    const simulated = simulateRun(run, peer).lastS;
    const ratio = simulated / run.lastS;
    const what = swarmLabel(run);
    return [
      row(`calibration check (bench/p2p, a process per agent): ${what}: simulated last machine vs measured`, simulated, 's', {
        baseline: run.lastS,
        higherIsBetter: true,
        target: 'within 0.75–1.33 of measured',
        pass: ratio >= 0.75 && ratio <= 1.33,
      }),
    ];
  });
}

export const simBenchmark: Benchmark = {
  name: 'sim',
  description: 'fleet simulator: 100,000 machines × 10 regions × 10 GiB, calibrated on real P2P fetchers (issue 10)',
  async run({ quick }) {
    const scalingRuns = p2pScalingRuns();
    const calibration = await calibrate(quick, scalingRuns.length === 0);
    // bench/p2p's calibration rows win, figure by figure, when that benchmark ran; else what was just measured.
    const peer = loadCalibration(calibration.peer);
    const rows: BenchRow[] = [...calibration.rows, row(`calibration used: ${peer.source}`, 0, '-'), ...processSwarmChecks(scalingRuns, peer)];
    if (quick) {
      const r = simulateFleet(defaultParams({ peer, machines: 2_000, regions: 2, size: 256 * 2 ** 20, buildS: 60 }));
      rows.push(...fleetRows('quick fleet 2,000 × 2 regions × 256 MiB', r), row('simulation wall time', r.wallS, 's'));
      return rows;
    }
    const shipped = simulateFleet(defaultParams({ peer }));
    rows.push(...fleetRows('100k × 10 × 10 GiB, shipped defaults', shipped));
    rows.push(row('simulation wall time, 100k × 10 × 10 GiB', shipped.wallS, 's', { target: '<= 300 s', pass: shipped.wallS <= 300 }));
    const before = simulateFleet(defaultParams({ peer, seederWaitS: 0 }));
    rows.push(...fleetRows('100k × 10 × 10 GiB, before FLEETCAST_AGENT_SEEDER_WAIT (fallback 30 s from the start)', before, false));

    const sweep: SweepPoint[] = [];
    for (const machines of [1_000, 10_000, 100_000, 1_000_000]) {
      for (const sizeGiB of [1, 2, 5, 10, 20]) {
        const r = simulateFleet(defaultParams({ peer, machines, size: sizeGiB * GiB }));
        sweep.push({ machines, sizeGiB, deployMin: r.deployS === null ? null : r.deployS / 60, totalMin: r.t100 === null ? null : r.t100 / 60 });
      }
    }
    fs.mkdirSync(resultsDir, { recursive: true });
    fs.writeFileSync(path.join(resultsDir, 'sim-sweep.svg'), sweepSvg(sweep, '10 regions, shipped settings'));
    for (const p of sweep) rows.push(row(`sweep: ${p.machines} machines, ${p.sizeGiB} GiB: deploy phase / total`, p.deployMin ?? -1, 'min', { baseline: p.totalMin ?? -1 }));

    for (const c of sensitivityCases()) {
      const r = simulateFleet(defaultParams({ ...c.overrides, peer: { ...peer, ...c.peer } }));
      const total = r.t100;
      rows.push(
        // What-ifs: they say what breaks the 30 minutes, they are not targets of the shipped code.
        row(
          `sensitivity: ${c.label}: total (deploy phase ${min(r.deployS).toFixed(1)} min, ${Math.round(r.machinesFellBack)} fell back, bucket ${tb(r.bytesFromBucket).toFixed(1)} TB, ${total !== null && total <= 1800 ? 'within' : 'misses'} 30 min)`,
          min(total),
          'min',
        ),
      );
    }
    return rows;
  },
};
