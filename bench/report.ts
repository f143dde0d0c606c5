import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** One line of a benchmark's result, as DESIGN.md gives it in bench/results/NAME.json. */
export interface BenchRow {
  metric: string;
  value: number;
  unit: string;
  /** The same-run baseline (raw SQL, raw NATS, plain copy, lower bound); null where none applies. */
  baseline: number | null;
  /** value / baseline, or baseline / value for lower-is-better metrics; null without a baseline. */
  ratio: number | null;
  /** Human-readable target, e.g. ">= 0.8 of baseline"; null where the row is informative only. */
  target: string | null;
  /** Whether the target is met; null where there is no target. */
  pass: boolean | null;
}

export interface BenchOptions {
  /** Small sizes, for CI: checks that the benchmark works, not how fast. */
  quick: boolean;
  /** Words after the benchmark's name (`npm run bench -- swarm 8 128M 80`); empty when none. */
  args?: string[];
}

export interface Benchmark {
  name: string;
  description: string;
  /** Runs only when named (a subset of another benchmark, e.g. blobstore-s3 of blobstore). */
  onlyWhenNamed?: boolean;
  run(options: BenchOptions): Promise<BenchRow[]>;
}

export const resultsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');

export function row(
  metric: string,
  value: number,
  unit: string,
  compare: { baseline?: number | null; higherIsBetter?: boolean; target?: string | null; pass?: boolean | null } = {},
): BenchRow {
  const baseline = compare.baseline ?? null;
  let ratio: number | null = null;
  if (baseline !== null && baseline > 0 && value > 0) {
    ratio = compare.higherIsBetter === false ? baseline / value : value / baseline;
    ratio = Math.round(ratio * 1000) / 1000;
  }
  return { metric, value: round(value), unit, baseline: baseline === null ? null : round(baseline), ratio, target: compare.target ?? null, pass: compare.pass ?? null };
}

function round(value: number): number {
  return Math.abs(value) >= 100 ? Math.round(value) : Math.round(value * 1000) / 1000;
}

export function writeResult(name: string, rows: BenchRow[], extra: Record<string, unknown> = {}): string {
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify({ benchmark: name, rows, ...extra }, null, 2) + '\n');
  return file;
}

/** `judged` false (quick mode): the pass column stays empty, since small sizes say nothing of the targets. */
export function formatTable(name: string, rows: BenchRow[], options: { judged?: boolean } = {}): string {
  const judged = options.judged ?? true;
  const header = ['metric', 'value', 'unit', 'baseline', 'ratio', 'target', 'pass'];
  const cells = rows.map((r) => [
    r.metric,
    String(r.value),
    r.unit,
    r.baseline === null ? '-' : String(r.baseline),
    r.ratio === null ? '-' : String(r.ratio),
    r.target ?? '-',
    r.pass === null || !judged ? '-' : r.pass ? 'PASS' : 'FAIL',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  return [`== ${name}`, line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
