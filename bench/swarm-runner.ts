// One configuration of the swarm benchmark (bench/swarm.ts), run inside the control host's
// network namespace, where the tracker, NATS and the DHT bootstrap listen: a BitTorrent round
// (opentracker, one aria2c seed, N aria2c downloaders) then a fleetcast round (a seeder
// process, N `fleetcast agent` processes), the same random file over the same capped links,
// each process in its host's namespace. Prints one JSON line: what each round measured.
//   ip netns exec fcswarm-ctl node --import tsx bench/swarm-runner.ts '<RunnerInput as JSON>'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { spawnTs } from '../test/support/processes.ts';
import { fetchedOf, installed, P2PBenchFleet, until, type BenchAgent, type BenchArtifact, type HostNet } from './p2p-fleet.ts';
import { cpuTicks, processCpuMs, processWrittenBytes } from './proc-stats.ts';
import { sentBytes, type SwarmHosts } from './swarm-network.ts';

export interface RunnerInput {
  dir: string;
  size: number;
  hosts: SwarmHosts;
}

/** What one round (BitTorrent or fleetcast) measured, from the start of the distribution to all done. */
export interface RoundResult {
  seconds: number;
  /** User + system CPU of the seed and downloader processes (aria2c; seeder and agents). */
  cpuMs: number;
  /** The seed's part of it. */
  seedCpuMs: number;
  /** Bytes the downloaders wrote to disk (/proc/<pid>/io write_bytes). */
  diskWritten: number;
  /** Bytes the seed host sent on its link. */
  seedSent: number;
  /** Bytes agents read from the bucket (always 0 for BitTorrent). */
  fromBucket: number;
  /** Fraction of the machine's CPU busy during the round (all processes, not only these). */
  machineBusy: number;
}

export interface RunnerOutput {
  bittorrent: RoundResult;
  fleetcast: RoundResult;
}

const input = JSON.parse(process.argv[2]!) as RunnerInput;
const { hosts, size, dir } = input;
/** A swarm slower than 1 MiB/s (plus two minutes of start) is broken, not slow. */
const roundTimeoutMs = 120_000 + (size / (1 << 20)) * 1000;
const inNamespace = (net: HostNet) => ['ip', 'netns', 'exec', net.namespace];

/** Counters of the round's processes, taken when it starts and when all are done. */
interface Snapshot {
  at: number;
  cpuMs: number;
  seedCpuMs: number;
  written: number;
  seedSent: number;
  machine: { busy: number; all: number };
}

function snapshot(seed: number, downloaders: number[]): Snapshot {
  return {
    at: performance.now(),
    cpuMs: [seed, ...downloaders].reduce((sum, pid) => sum + processCpuMs(pid), 0),
    seedCpuMs: processCpuMs(seed),
    written: downloaders.reduce((sum, pid) => sum + processWrittenBytes(pid), 0),
    seedSent: sentBytes(hosts.seed),
    machine: cpuTicks(),
  };
}

function result(before: Snapshot, after: Snapshot, fromBucket: number): RoundResult {
  return {
    seconds: (after.at - before.at) / 1000,
    cpuMs: after.cpuMs - before.cpuMs,
    seedCpuMs: after.seedCpuMs - before.seedCpuMs,
    diskWritten: after.written - before.written,
    seedSent: after.seedSent - before.seedSent,
    fromBucket,
    machineBusy: (after.machine.busy - before.machine.busy) / (after.machine.all - before.machine.all),
  };
}

function log(message: string): void {
  process.stderr.write(`swarm: ${message}\n`);
}

/** aria2c as the baseline runs it: tracker only (no DHT, no local discovery), seeding on. */
const aria2Common = [
  '--enable-dht=false',
  '--enable-dht6=false',
  '--bt-enable-lpd=false',
  '--disable-ipv6=true',
  '--seed-ratio=0.0',
  '--bt-tracker-interval=1',
  '--file-allocation=falloc',
  '--summary-interval=0',
  '--console-log-level=warn',
  '--listen-port=6881',
];

async function bittorrentRound(artifact: BenchArtifact): Promise<RoundResult> {
  const btDir = path.join(dir, 'bt');
  fs.mkdirSync(btDir, { recursive: true, mode: 0o755 });
  const torrent = path.join(btDir, 'file.torrent');
  execFileSync('mktorrent', ['-a', `http://${hosts.control.address}:6969/announce`, '-o', torrent, artifact.file], { stdio: 'ignore' });
  const infoHash = /Info Hash: ([0-9a-f]{40})/.exec(execFileSync('aria2c', ['-S', torrent], { encoding: 'utf8' }))![1]!;
  // opentracker serves only whitelisted hashes and drops to user nobody: all world-readable.
  fs.writeFileSync(path.join(btDir, 'whitelist'), infoHash + '\n', { mode: 0o644 });
  const hook = path.join(btDir, 'done.sh');
  fs.writeFileSync(hook, '#!/bin/sh\ntouch "$3.done"\n', { mode: 0o755 });
  const children: ChildProcess[] = [];
  const start = (command: string[]) => {
    const child = spawn(command[0]!, command.slice(1), { cwd: btDir, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(child);
    return child;
  };
  try {
    start(['opentracker', '-i', hosts.control.address, '-p', '6969', '-P', '6969', '-w', path.join(btDir, 'whitelist')]);
    const seed = start([...inNamespace(hosts.seed), 'aria2c', ...aria2Common, `--dir=${path.dirname(artifact.file)}`, '--bt-seed-unverified=true', torrent]);
    // The seed's first announce (the tracker is retried every second).
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const downloadDirs = hosts.downloaders.map((_, i) => path.join(btDir, `d${i + 1}`));
    const before = snapshot(seed.pid!, []);
    const downloaders = hosts.downloaders.map((host, i) => start([...inNamespace(host), 'aria2c', ...aria2Common, `--dir=${downloadDirs[i]}`, `--on-bt-download-complete=${hook}`, torrent]));
    const name = path.basename(artifact.file);
    await until(
      () => {
        for (const child of [seed, ...downloaders]) if (child.exitCode !== null) throw new Error(`aria2c ${child.pid} exited (${child.exitCode})`);
        return downloadDirs.every((d) => fs.existsSync(path.join(d, `${name}.done`)));
      },
      roundTimeoutMs,
      `${downloaders.length} aria2c downloaders to finish`,
      25,
    );
    const after = snapshot(seed.pid!, downloaders.map((d) => d.pid!));
    for (const d of downloadDirs) if (fs.statSync(path.join(d, name)).size !== size) throw new Error(`aria2c in ${d} finished with a file of the wrong size`);
    return result(before, after, 0);
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map((child) => (child.exitCode !== null || child.signalCode !== null ? undefined : new Promise((resolve) => child.once('exit', resolve)))));
    fs.rmSync(btDir, { recursive: true, force: true });
  }
}

async function fleetcastRound(fleet: P2PBenchFleet, artifact: BenchArtifact): Promise<RoundResult> {
  await spawnTs('bin/fleetcast.js', {}, ['--help']).exited;
  const seeder = fleet.startSeeder('swarm', null, hosts.seed);
  await fleet.seeding('swarm', artifact.build, 10 * 60_000);
  const agents: BenchAgent[] = [];
  // A few at a time: sixteen Node processes starting at once on two cores time out their start.
  for (let i = 0; i < hosts.downloaders.length; i += 4) {
    const batch = hosts.downloaders.slice(i, i + 4);
    agents.push(...(await Promise.all(batch.map((host, j) => fleet.startAgent('swarm', `d${i + j + 1}`, 'swarm', { agentUp: null, agentDown: null }, host)))));
  }
  const pids = agents.map((agent) => agent.process.child.pid!);
  const before = snapshot(seeder.process.child.pid!, pids);
  await fleet.deploy(artifact.goal('swarm'));
  await until(
    () => {
      for (const agent of agents) if (agent.process.child.exitCode !== null) throw new Error(`agent ${agent.machine} exited: ${agent.process.stderr.slice(-5).join('\n')}`);
      return agents.every((agent) => installed(agent, artifact.build));
    },
    roundTimeoutMs,
    `${agents.length} agents to install ${artifact.build}`,
    25,
  );
  const after = snapshot(seeder.process.child.pid!, pids);
  return result(before, after, agents.reduce((sum, agent) => sum + fetchedOf(agent, artifact.build).fromBucket, 0));
}

const fleet = await P2PBenchFleet.start(path.join(dir, 'fleetcast'), ['swarm'], hosts.control.address);
try {
  const artifact = await fleet.artifact('swarm', size, ['swarm']);
  log(`BitTorrent: ${hosts.downloaders.length} downloaders`);
  const bittorrent = await bittorrentRound(artifact);
  log(`BitTorrent: all done in ${bittorrent.seconds.toFixed(1)} s; fleetcast: ${hosts.downloaders.length} agents`);
  const fleetcast = await fleetcastRound(fleet, artifact);
  log(`fleetcast: all installed in ${fleetcast.seconds.toFixed(1)} s`);
  process.stdout.write(JSON.stringify({ bittorrent, fleetcast } satisfies RunnerOutput) + '\n');
} finally {
  await fleet.close();
}
process.exit(0);
