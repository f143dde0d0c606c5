// npx tsx ops/nats/start-cluster.ts [--regions eu,us,ap] [--nodes 3] [--dir DIR]
// Starts a private NATS hub plus one leaf node per region on free ports (development, tests,
// benchmarks), prints one JSON document with their URLs on stdout, and runs until SIGINT or
// SIGTERM, then stops every server cleanly (and removes the temporary dir unless --dir).
import { LocalNatsCluster } from './local-cluster.ts';

const usage = `usage: npx tsx ops/nats/start-cluster.ts [--regions eu,us,ap] [--nodes 3] [--dir DIR]

Starts nats-server processes: a hub (JetStream domain "hub", holds the global goal bucket) and one
leaf per region (domain = region name, mirrors goal as goal-<region>). Prints
  { "hub": url, "leaves": {region: url}, "agents": {region: url}, "leafLink": url, "hubLeafnodes": url, "dir", "processes" }
on stdout (URLs carry the generated credentials) and stops them all on Ctrl-C / SIGTERM.
  --regions   comma-separated region names [a-z0-9-]+ (default: FLEETCAST_REGIONS, else local)
  --nodes     servers per cluster: 3 runs the hub and each region as 3-server JetStream clusters
              (URLs are then comma-separated lists of the servers) (default 1)
  --dir       keep configs, stores and logs here (default: a temporary dir, removed on stop)`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(usage);
  process.exit(0);
}
function option(name: string): string | undefined {
  const at = args.indexOf(name);
  if (at === -1) return undefined;
  const value = args[at + 1];
  if (value === undefined || value.startsWith('--')) {
    console.error(`${name} needs a value\n\n${usage}`);
    process.exit(2);
  }
  return value;
}
const known = new Set(['--regions', '--nodes', '--dir']);
const unknown = args.filter((arg, i) => arg.startsWith('--') && !known.has(arg) && !known.has(args[i - 1] ?? ''));
if (unknown.length > 0) {
  console.error(`unknown option ${unknown.join(' ')}\n\n${usage}`);
  process.exit(2);
}

const regions = (option('--regions') ?? process.env.FLEETCAST_REGIONS ?? 'local').split(',').map((r) => r.trim()).filter(Boolean);
const bad = regions.filter((r) => !/^[a-z0-9-]+$/.test(r) || r === 'hub');
if (bad.length > 0) {
  console.error(`bad region name ${bad.join(', ')}: use lower-case letters, digits and dashes (and not "hub")`);
  process.exit(2);
}

const nodes = Number(option('--nodes') ?? '1');
if (!Number.isInteger(nodes) || nodes < 1 || nodes > 5) {
  console.error(`--nodes ${option('--nodes')}: give a whole number from 1 to 5`);
  process.exit(2);
}

let cluster: LocalNatsCluster;
try {
  cluster = await LocalNatsCluster.start({ regions, dir: option('--dir'), nodes });
} catch (err) {
  console.error(`could not start the NATS cluster: ${(err as Error).message}`);
  process.exit(1);
}
console.log(JSON.stringify({ ...cluster.urls, dir: cluster.dir, processes: cluster.processes() }));

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.error(`${signal}: stopping the NATS cluster`);
  await cluster.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
// Keep running until a signal arrives.
setInterval(() => undefined, 1 << 30);
