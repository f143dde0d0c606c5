// CPU per MiB of one P2P transfer, seeder and fetcher in this process (user + system of the
// process, all threads), uncapped on loopback: `npx tsx bench/p2p-cpu.ts [MiB]`. The transport
// comparison of BENCHMARKS.md (issue 20) beside it: fleetcast's block exchange end to end.
import { P2PTestbed, servingPeer } from '../test/support/p2p.ts';

const MiB = 1 << 20;
const size = Number(process.argv[2] ?? 128) * MiB;
const testbed = await P2PTestbed.start();
try {
  const artifact = await testbed.artifact('cpu', 'eu', size);
  await servingPeer(testbed, 'seed', 'eu', artifact);
  const fetcher = await testbed.fetcher('m1', 'eu');
  const before = process.cpuUsage();
  const started = performance.now();
  await fetcher.fetch({ goal: artifact.goal, destination: testbed.destination('m1', artifact.goal), signal: AbortSignal.timeout(600_000) });
  const ms = performance.now() - started;
  const used = process.cpuUsage(before);
  const cpuMs = (used.user + used.system) / 1000;
  console.log(JSON.stringify({ mib: size / MiB, seconds: +(ms / 1000).toFixed(2), mibPerSecond: +(size / MiB / (ms / 1000)).toFixed(1), cpuMsPerMiB: +(cpuMs / (size / MiB)).toFixed(2), userMs: Math.round(used.user / 1000), systemMs: Math.round(used.system / 1000), load: (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') }));
} finally {
  await testbed.close();
}
process.exit(0);
