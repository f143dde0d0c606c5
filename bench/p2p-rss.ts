// The RSS row of bench/p2p alone: one real `fleetcast agent` process downloads a build (2 GiB by
// default) from one seeder process, no caps, on loopback; prints its peak RSS (VmHWM) before and
// after, its rate goal → installed and its own CPU per MiB (user + system): one core ÷ that is
// the per-agent rate the simulator calibrates with (CPU-bound here, on a shared machine).
//   npx tsx bench/p2p-rss.ts [MiB]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { spawnTs } from '../test/support/processes.ts';
import { installed, P2PBenchFleet, until } from './p2p-fleet.ts';
import { peakRssMiB, processCpuMs } from './proc-stats.ts';

const MiB = 1 << 20;
const size = Number(process.argv[2] ?? 2048) * MiB;

const fleet = await P2PBenchFleet.start(fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-bench-p2p-rss-')), ['rss']);
try {
  await spawnTs('bin/fleetcast.js', {}, ['--help']).exited;
  fleet.startSeeder('rss', null);
  const artifact = await fleet.artifact('huge', size, ['rss']);
  await fleet.seeding('rss', artifact.build, 20 * 60_000);
  const agent = await fleet.startAgent('rss', 'rss-1', 'huge', { agentUp: null, agentDown: null });
  const pid = agent.process.child.pid!;
  const idle = peakRssMiB(pid);
  const cpuBefore = processCpuMs(pid);
  const started = performance.now();
  await fleet.deploy(artifact.goal('rss'));
  await until(() => installed(agent, artifact.build), 20 * 60_000, 'the agent to install the build', 25);
  const seconds = (performance.now() - started) / 1000;
  const agentCpuMsPerMiB = (processCpuMs(pid) - cpuBefore) / (size / MiB);
  const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(JSON.stringify({ mib: size / MiB, node: process.version, peakRssMiB: +peakRssMiB(pid).toFixed(1), idleRssMiB: +idle.toFixed(1), seconds: +seconds.toFixed(1), mibPerSecond: +(size / MiB / seconds).toFixed(1), agentCpuMsPerMiB: +agentCpuMsPerMiB.toFixed(2), oneCoreMiBPerSecond: +(1000 / agentCpuMsPerMiB).toFixed(1), load }));
} finally {
  await fleet.close();
}
process.exit(0);
