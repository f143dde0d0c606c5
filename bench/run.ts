// npm run bench -- [NAME ...] [--quick]     npm run bench -- NAME [ARG ...] (one benchmark, its own arguments)
// Runs the named benchmarks (all when none is named), prints one table each and writes
// bench/results/NAME.json. Exits 1 if a benchmark fails to run or misses a target in full mode.
import { execFileSync } from 'node:child_process';
import { formatTable, row, writeResult, type Benchmark, type BenchRow } from './report.ts';
import { queueBenchmark } from './queue.ts';
import { replicationBenchmark } from './replication.ts';
import { builderBenchmark } from './builder.ts';
import { blobstoreBenchmark, blobstoreS3Benchmark } from './blobstore.ts';
import { goalstateBenchmark, goalstateHaBenchmark } from './goalstate.ts';
import { p2pBenchmark, p2pRssBenchmark } from './p2p.ts';
import { simBenchmark } from './sim.ts';
import { dashboardBenchmark } from './dashboard.ts';
import { swarmBenchmark } from './swarm.ts';
import { fanoutBenchmark } from './fanout.ts';

// p2p before sim: the simulator calibrates on bench/results/p2p.json when it is there.
const benchmarks: Benchmark[] = [queueBenchmark, builderBenchmark, replicationBenchmark, blobstoreBenchmark, blobstoreS3Benchmark, goalstateBenchmark, goalstateHaBenchmark, p2pBenchmark, p2pRssBenchmark, simBenchmark, swarmBenchmark, dashboardBenchmark, fanoutBenchmark];

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log('usage: npm run bench -- [NAME ...] [--quick]\n       npm run bench -- NAME [ARG ...]   (one benchmark with its arguments, e.g. swarm 8 128M 80)\n\nbenchmarks:');
  for (const b of benchmarks) console.log(`  ${b.name.padEnd(12)} ${b.description}`);
  process.exit(0);
}
const quick = args.includes('--quick');
const words = args.filter((a) => !a.startsWith('--'));
// `NAME ARG …`: the words after a single benchmark's name are its arguments.
const takesArgs = words.length > 1 && benchmarks.some((b) => b.name === words[0]) && !benchmarks.some((b) => b.name === words[1]);
const names = takesArgs ? words.slice(0, 1) : words;
const benchmarkArgs = takesArgs ? words.slice(1) : [];
const unknown = names.filter((n) => !benchmarks.some((b) => b.name === n));
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(', ')}; known: ${benchmarks.map((b) => b.name).join(', ')}`);
  process.exit(2);
}

/** The target of the row a benchmark that threw leaves in the summary. */
const runsTarget = 'runs';

let failed = false;
const summary: BenchRow[] = [];
for (const benchmark of benchmarks.filter((b) => (names.length === 0 ? !b.onlyWhenNamed : names.includes(b.name)))) {
  try {
    const rows = await benchmark.run({ quick, args: benchmarkArgs });
    const file = writeResult(benchmark.name, rows, { quick, at: new Date().toISOString() });
    console.log(formatTable(benchmark.name + (quick ? ' (quick: sizes too small for the targets, not judged)' : ''), rows, { judged: !quick }));
    console.log(`-> ${file}\n`);
    // Rows that already name their benchmark (`p2p: …`) keep their name.
    const prefix = `${benchmark.name}: `;
    summary.push(...rows.map((r) => ({ ...r, metric: r.metric.startsWith(prefix) ? r.metric : prefix + r.metric })));
    if (!quick && rows.some((r) => r.pass === false)) failed = true;
  } catch (err) {
    console.error(`benchmark ${benchmark.name} failed:`, err);
    summary.push(row(`${benchmark.name}: did not run (${err instanceof Error ? err.message : String(err)})`, 0, '-', { target: runsTarget, pass: false }));
    failed = true;
  }
}
// One table of every benchmark's targets, and one JSON with every row, so runs compare over time.
// Quick mode judges only whether each benchmark ran.
const judged = quick ? summary.filter((r) => r.target === runsTarget) : summary.filter((r) => r.pass !== null);
console.log(formatTable(quick ? 'all benchmarks: did each run (quick: targets not judged)' : 'all benchmarks: targets', judged));
console.log(`-> ${writeResult('summary', summary, { quick, at: new Date().toISOString(), commit: gitCommit() })}`);
process.exit(failed ? 1 : 0);

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}
