// Issue 20: fleetcast's seeder and agents against a real BitTorrent swarm (Debian aria2 +
// opentracker) on the same links: every host in its own network namespace, joined by a bridge,
// every link capped both ways with tc (bench/swarm-network.ts). Per configuration, a BitTorrent
// round then a fleetcast round with the same random file (bench/swarm-runner.ts, run in the
// control host's namespace). Root only.
//   npm run bench -- swarm                  the default set (8 and 16 × 128 MiB at 80 Mbit/s, 4 × 256 MiB uncapped)
//   npm run bench -- swarm N SIZE RATE      one configuration: SIZE in MiB (or 128M, 1G), RATE in Mbit/s or `none`
//   npm run bench -- swarm --quick          2 × 8 MiB at 80 Mbit/s: checks that it works
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnTs } from '../test/support/processes.ts';
import { row, type Benchmark, type BenchRow } from './report.ts';
import { makeSwarmNetwork, missingPrivileges, removeSwarmNetwork } from './swarm-network.ts';
import type { RoundResult, RunnerInput, RunnerOutput } from './swarm-runner.ts';

const MiB = 1024 * 1024;

interface SwarmConfig {
  downloaders: number;
  size: number;
  /** Mbit/s each link carries each way; null: uncapped. */
  rateMbit: number | null;
}

const defaults: SwarmConfig[] = [
  { downloaders: 8, size: 128 * MiB, rateMbit: 80 },
  { downloaders: 16, size: 128 * MiB, rateMbit: 80 },
  { downloaders: 4, size: 256 * MiB, rateMbit: null },
];
const quickConfig: SwarmConfig = { downloaders: 2, size: 8 * MiB, rateMbit: 80 };

function parseConfig(args: string[]): SwarmConfig {
  const [n, size, rate] = args;
  const downloaders = Number(n);
  const sizeMatch = /^(\d+)(M|MiB|G|GiB)?$/i.exec(size ?? '');
  const rateMbit = rate === undefined || rate === 'none' ? null : Number(rate);
  if (!Number.isInteger(downloaders) || downloaders < 1 || downloaders > 200 || !sizeMatch || (rateMbit !== null && !(rateMbit > 0)) || args.length > 3) {
    throw new Error(`usage: npm run bench -- swarm N SIZE RATE, e.g. swarm 8 128M 80 (N 1–200, SIZE in MiB or with M/G, RATE in Mbit/s or none); got: ${args.join(' ')}`);
  }
  const unit = /^g/i.test(sizeMatch[2] ?? '') ? 1024 * MiB : MiB;
  return { downloaders, size: Number(sizeMatch[1]) * unit, rateMbit };
}

function describe(c: SwarmConfig): string {
  return `${c.downloaders} × ${c.size / MiB} MiB, ${c.rateMbit === null ? 'uncapped' : `${c.rateMbit} Mbit/s`}`;
}

/** T >= max(F/u_seed, F/d, N·F/(u_seed + N·u)), every link at the same rate both ways; null uncapped. */
function lowerBound(c: SwarmConfig): number | null {
  if (c.rateMbit === null) return null;
  const rate = (c.rateMbit * 1e6) / 8;
  return Math.max(c.size / rate, c.size / rate, (c.downloaders * c.size) / (rate + c.downloaders * rate));
}

async function runConfig(c: SwarmConfig, dir: string): Promise<RunnerOutput> {
  const hosts = makeSwarmNetwork(c.downloaders, c.rateMbit);
  try {
    const input: RunnerInput = { dir, size: c.size, hosts };
    const runner = spawnTs('bench/swarm-runner.ts', { FLEETCAST_LOG_LEVEL: 'warn' }, [JSON.stringify(input)], ['ip', 'netns', 'exec', hosts.control.namespace]);
    runner.child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    const { code } = await runner.exited;
    const output = runner.events.at(-1) as RunnerOutput | undefined;
    if (code !== 0 || !output) throw new Error(`the swarm runner for ${describe(c)} failed (exit ${code}): ${runner.stderr.slice(-10).join('\n')}`);
    return output;
  } finally {
    removeSwarmNetwork();
  }
}

function rowsOf(c: SwarmConfig, out: RunnerOutput, judged: { sixteen: boolean }): BenchRow[] {
  const name = describe(c);
  const { bittorrent: bt, fleetcast: fc } = out;
  const delivered = c.downloaders * c.size;
  const cpuPerMiB = (r: RoundResult) => r.cpuMs / (delivered / MiB);
  const bound = lowerBound(c);
  const rows: BenchRow[] = [];
  if (bound === null) {
    rows.push(
      row(`${name}: BitTorrent time to all done`, bt.seconds, 's'),
      row(`${name}: fleetcast time to all installed (baseline: BitTorrent)`, fc.seconds, 's', { baseline: bt.seconds, higherIsBetter: false, target: '<= 1.5 × BitTorrent', pass: fc.seconds <= 1.5 * bt.seconds }),
    );
  } else {
    const btRatio = bound / bt.seconds;
    rows.push(
      row(`${name}: BitTorrent time to all done (baseline: lower bound)`, bt.seconds, 's', { baseline: bound, higherIsBetter: false }),
      row(`${name}: fleetcast time to all installed (baseline: lower bound)`, fc.seconds, 's', {
        baseline: bound,
        higherIsBetter: false,
        target: `lower bound ÷ time >= BitTorrent's ${btRatio.toFixed(3)}`,
        pass: bound / fc.seconds >= btRatio,
      }),
    );
  }
  rows.push(
    row(`${name}: BitTorrent CPU-ms per MiB delivered (aria2c seed + downloaders)`, cpuPerMiB(bt), 'ms/MiB'),
    row(`${name}: fleetcast CPU-ms per MiB delivered (seeder + agents; baseline: BitTorrent)`, cpuPerMiB(fc), 'ms/MiB', {
      baseline: cpuPerMiB(bt),
      higherIsBetter: false,
      target: '<= 1.5 × BitTorrent',
      pass: cpuPerMiB(fc) <= 1.5 * cpuPerMiB(bt),
    }),
    // Downloaders alone, per MiB each received: one core ÷ this is an agent's CPU-bound rate.
    row(`${name}: BitTorrent downloaders' CPU-ms per MiB received (aria2c, seed excluded)`, (bt.cpuMs - bt.seedCpuMs) / (delivered / MiB), 'ms/MiB'),
    row(`${name}: fleetcast agents' CPU-ms per MiB received (seeder excluded)`, (fc.cpuMs - fc.seedCpuMs) / (delivered / MiB), 'ms/MiB'),
    row(`${name}: BitTorrent seed host egress`, bt.seedSent / c.size, '× F'),
    row(`${name}: fleetcast seeder host egress`, fc.seedSent / c.size, '× F', judged.sixteen ? { target: '<= 1.5 × F', pass: fc.seedSent <= 1.5 * c.size } : {}),
    row(`${name}: fleetcast bytes from the bucket`, fc.fromBucket, 'B', { target: '= 0', pass: fc.fromBucket === 0 }),
    row(`${name}: BitTorrent disk bytes written per byte delivered`, bt.diskWritten / delivered, 'B/B'),
    row(`${name}: fleetcast disk bytes written per byte delivered (agents)`, fc.diskWritten / delivered, 'B/B', { target: '<= 1.1', pass: fc.diskWritten / delivered <= 1.1 }),
    // Near 1: the machine's CPU (shared with whatever else runs), not the links, limited the round.
    row(`${name}: machine CPU busy during the BitTorrent round (${os.cpus().length} cores, all processes)`, bt.machineBusy, 'fraction'),
    row(`${name}: machine CPU busy during the fleetcast round`, fc.machineBusy, 'fraction'),
  );
  return rows;
}

export const swarmBenchmark: Benchmark = {
  name: 'swarm',
  description: 'fleetcast seeder + agents vs aria2 + opentracker, every host in its own network namespace on tc-capped links (root); `swarm N SIZE RATE` for one configuration',
  async run({ quick, args = [] }): Promise<BenchRow[]> {
    const missing = missingPrivileges();
    if (missing) throw new Error(missing);
    const configs = args.length > 0 ? [parseConfig(args)] : quick ? [quickConfig] : defaults;
    const rows: BenchRow[] = [row('machine load average (1 min) at the start', Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]), '')];
    // World-readable: opentracker drops to user nobody.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-bench-swarm-'));
    fs.chmodSync(dir, 0o755);
    // Interrupted (Ctrl-C, timeout): no namespace, bridge or process stays behind.
    const interrupted = () => {
      removeSwarmNetwork();
      fs.rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    };
    process.once('SIGINT', interrupted);
    process.once('SIGTERM', interrupted);
    try {
      for (const c of configs) {
        process.stderr.write(`swarm: ${describe(c)}\n`);
        rows.push(...rowsOf(c, await runConfig(c, path.join(dir, `n${c.downloaders}`)), { sixteen: c.downloaders >= 16 && c.rateMbit !== null }));
      }
      return rows;
    } finally {
      process.off('SIGINT', interrupted);
      process.off('SIGTERM', interrupted);
      removeSwarmNetwork();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};
