// npm run bench -- [NAME ...] [--quick]
// Runs the named benchmarks (all when none is named), prints one table each and writes
// bench/results/NAME.json. Exits 1 if a benchmark fails to run or misses a target in full mode.
import { formatTable, writeResult, type Benchmark } from './report.ts';
import { queueBenchmark } from './queue.ts';
import { replicationBenchmark } from './replication.ts';
import { builderBenchmark } from './builder.ts';
import { blobstoreBenchmark } from './blobstore.ts';
import { goalstateBenchmark } from './goalstate.ts';
import { p2pBenchmark } from './p2p.ts';

const benchmarks: Benchmark[] = [queueBenchmark, builderBenchmark, replicationBenchmark, blobstoreBenchmark, goalstateBenchmark, p2pBenchmark];

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log('usage: npm run bench -- [NAME ...] [--quick]\n\nbenchmarks:');
  for (const b of benchmarks) console.log(`  ${b.name.padEnd(12)} ${b.description}`);
  process.exit(0);
}
const quick = args.includes('--quick');
const names = args.filter((a) => !a.startsWith('--'));
const unknown = names.filter((n) => !benchmarks.some((b) => b.name === n));
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(', ')}; known: ${benchmarks.map((b) => b.name).join(', ')}`);
  process.exit(2);
}

let failed = false;
for (const benchmark of benchmarks.filter((b) => names.length === 0 || names.includes(b.name))) {
  try {
    const rows = await benchmark.run({ quick });
    const file = writeResult(benchmark.name, rows, { quick, at: new Date().toISOString() });
    console.log(formatTable(benchmark.name + (quick ? ' (quick: sizes too small for the targets)' : ''), rows));
    console.log(`-> ${file}\n`);
    if (!quick && rows.some((r) => r.pass === false)) failed = true;
  } catch (err) {
    console.error(`benchmark ${benchmark.name} failed:`, err);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
