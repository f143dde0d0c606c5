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

/** Reads the `calibration:…` rows of a result file; null when it has none. */
export function calibrationFrom(file: string, source: string): PeerCalibration | null {
  const found = rows(file)?.filter((r) => r.metric.startsWith('calibration:'));
  if (!found || found.length === 0) return null;
  const taken = new Set<BenchRow>();
  const pick = (...words: string[]) => {
    const found_ = found.find((r) => !taken.has(r) && words.some((w) => r.metric.toLowerCase().includes(w)));
    if (found_) taken.add(found_);
    return found_;
  };
  // Most specific first: a preparation row may mention verification too.
  const prep = pick('core preparation', 'seeder core', 'prepar');
  const ttfb = pick('first byte');
  const efficiencyRow = pick('per-connection', 'vs cap', 'efficiency');
  const verify = pick('verify');
  // Throughput against its cap: a ratio row, a percentage, or a rate whose ratio column holds it.
  const share = (row: BenchRow | undefined): number | null => {
    if (!row) return null;
    if (row.unit === '%') return row.value / 100;
    if (row.unit === 'ratio' || row.unit === '') return row.value;
    return row.ratio;
  };
  const efficiency = share(efficiencyRow);
  return {
    timeToFirstByteS: ttfb ? seconds(ttfb) : defaultCalibration.timeToFirstByteS,
    // A ratio row (throughput ÷ cap), or a percentage.
    uploadEfficiency: efficiency !== null && efficiency > 0 ? Math.min(1, efficiency) : defaultCalibration.uploadEfficiency,
    seederEfficiency: efficiency !== null && efficiency > 0 ? Math.min(1, efficiency) : defaultCalibration.seederEfficiency,
    verifyRate: verify ? perSecond(verify) : defaultCalibration.verifyRate,
    corePrepRate: prep ? perSecond(prep) : defaultCalibration.corePrepRate,
    source,
  };
}

export function loadCalibration(): PeerCalibration {
  return calibrationFrom(p2pFile, 'bench/results/p2p.json (bench/p2p)') ?? calibrationFrom(ownCalibrationFile, 'bench/results/sim-calibration.json (bench/sim/calibration.ts)') ?? defaultCalibration;
}
