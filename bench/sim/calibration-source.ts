// Where the simulator's per-peer figures come from: bench/p2p's calibration rows when that
// benchmark ran (bench/results/p2p.json), else this simulator's own measurement of the real
// code (bench/results/sim-calibration.json, written by calibration.ts), else the defaults.
import fs from 'node:fs';
import path from 'node:path';
import { resultsDir, type BenchRow } from '../report.ts';
import { defaultCalibration, type PeerCalibration } from './params.ts';

export const ownCalibrationFile = path.join(resultsDir, 'sim-calibration.json');
const p2pFile = path.join(resultsDir, 'p2p.json');

function rows(file: string): BenchRow[] | null {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { rows?: BenchRow[] };
    return Array.isArray(parsed.rows) ? parsed.rows : null;
  } catch {
    return null;
  }
}

/** Bytes/s from a row in MB/s, MiB/s or B/s. */
function perSecond(row: BenchRow): number {
  const unit = row.unit.toLowerCase();
  if (unit.startsWith('mib')) return row.value * 1024 ** 2;
  if (unit.startsWith('mb')) return row.value * 1e6;
  if (unit.startsWith('gb')) return row.value * 1e9;
  return row.value;
}

function seconds(row: BenchRow): number {
  return row.unit === 'ms' ? row.value / 1000 : row.value;
}

/**
 * Which rows give which figure, by their names in bench/p2p (first) and in this simulator's own
 * calibration (second). bench/p2p's "sha256 verify rate" is the hash alone, not an agent's whole
 * receive-verify-store-write path, so the verify rate is its uncapped one-agent transfer instead;
 * bench/p2p has no agent upload efficiency (its swarm utilisation mixes in the seeder), so that
 * one comes from the simulator's own small-N fit.
 */
const sources: Record<Exclude<keyof PeerCalibration, 'source'>, string[]> = {
  timeToFirstByteS: ['calibration: time to first byte'],
  verifyRate: ['calibration: one agent from one seeder, no caps', 'calibration: verify rate'],
  corePrepRate: ['calibration: seeder core preparation from the bucket (', 'calibration: seeder core preparation from the regional bucket'],
  seederEfficiency: ["calibration: one connection's throughput ÷ its cap", 'calibration: seeder upload delivered vs its cap'],
  uploadEfficiency: ['calibration: agent upload efficiency'],
};

/** The figures a result file's `calibration:…` rows give (only those it has); null when it has none. */
export function calibrationFrom(file: string, source: string): (Partial<PeerCalibration> & { source: string }) | null {
  const found = rows(file)?.filter((r) => r.metric.startsWith('calibration:'));
  if (!found || found.length === 0) return null;
  const figures: Partial<PeerCalibration> & { source: string } = { source };
  for (const [field, prefixes] of Object.entries(sources) as [keyof typeof sources, string[]][]) {
    // A lone seeder's preparation over one of several preparing at once, where both are there.
    const candidates = prefixes.flatMap((prefix) => found.filter((r) => r.metric.startsWith(prefix)));
    const chosen = candidates.find((r) => r.metric.includes('alone')) ?? candidates[0];
    if (!chosen) continue;
    figures[field] = field === 'timeToFirstByteS' ? seconds(chosen) : field.endsWith('Efficiency') ? Math.min(1, chosen.value) : perSecond(chosen);
  }
  return figures;
}

/**
 * bench/p2p's figures over the simulator's own (`own`, or bench/results/sim-calibration.json)
 * over the recorded defaults, figure by figure.
 */
export function loadCalibration(own?: PeerCalibration): PeerCalibration {
  const layers = [own ?? calibrationFrom(ownCalibrationFile, 'bench/results/sim-calibration.json'), calibrationFrom(p2pFile, 'bench/results/p2p.json')].filter((l) => l !== null);
  if (layers.length === 0) return defaultCalibration;
  const merged: PeerCalibration = { ...defaultCalibration };
  for (const { source: _source, ...figures } of layers) Object.assign(merged, figures);
  merged.source = [...layers].reverse().map((l) => l.source).join(' over ') + (own ? '' : ' over the recorded defaults');
  return merged;
}

/** One of bench/p2p's N-scaling runs: separate agent processes, one region, its caps. */
export interface MeasuredScalingRun {
  machines: number;
  size: number;
  seederUpload: number;
  agentUpload: number;
  agentDownload: number;
  /** Seconds from the goal written to the last agent's build installed. */
  lastS: number;
}

/**
 * bench/p2p's N-scaling runs (rows `scaling N=… (64 MiB, one region): p2p time …` and the caps
 * rows), [] when that benchmark has not run. Unlike calibration.ts's swarms, which share one
 * process and so one JavaScript thread, every agent there is a process of its own.
 */
export function p2pScalingRuns(file = p2pFile): MeasuredScalingRun[] {
  const found = rows(file) ?? [];
  const cap = (name: string) => found.find((r) => r.metric === `calibration: caps used, ${name}`);
  const [seeder, up, down] = [cap('seeder upload'), cap('agent upload'), cap('agent download')];
  if (!seeder || !up || !down) return [];
  return found.flatMap((r) => {
    const match = /^scaling N=(\d+) \((\d+) MiB, one region\): p2p time/.exec(r.metric);
    if (!match) return [];
    return [{ machines: Number(match[1]), size: Number(match[2]) * 2 ** 20, seederUpload: perSecond(seeder), agentUpload: perSecond(up), agentDownload: perSecond(down), lastS: seconds(r) }];
  });
}
