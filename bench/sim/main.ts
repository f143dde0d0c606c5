// npx tsx bench/sim/main.ts --machines 100000 --regions 10 --size 10GiB [--seeders-per-region 2] [...]
// Simulates one deploy of one build to the fleet and prints the timeline (see --help).
import { loadCalibration } from './calibration-source.ts';
import { parseSimArgs, peerFlags, simFlags } from './cli-options.ts';
import { simulateFleet } from './fleet.ts';
import { defaultParams } from './params.ts';
import { formatFleetResult } from './summary.ts';

try {
  const { overrides, peer, json, help } = parseSimArgs(process.argv.slice(2));
  if (help) {
    console.log('usage: npx tsx bench/sim/main.ts [--flag value ...] [--json]\n');
    for (const [name, flag] of Object.entries({ ...simFlags, ...peerFlags })) console.log(`  --${name.padEnd(30)} ${flag.help}`);
    process.exit(0);
  }
  const calibrated = loadCalibration();
  const result = simulateFleet(defaultParams({ ...overrides, peer: { ...calibrated, ...peer, source: Object.keys(peer).length > 0 ? `${calibrated.source}, changed by flags` : calibrated.source } }));
  if (json) console.log(JSON.stringify({ ...result, regions: result.regions.map(({ outcome, ...rest }) => ({ ...rest, fellBack: outcome.fellBack })) }, null, 2));
  else console.log(formatFleetResult(result));
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}
