// The network of the swarm benchmark (issue 20): every host in its own network namespace, all
// joined by a Linux bridge (in a namespace of its own, so the machine's own network is never
// touched) through veth pairs, each veth capped on both ends with tc: a host's upload on its
// own end, its download on the bridge's end (a qdisc shapes only what leaves its interface).
// Needs root, `ip` and `tc`. Everything it makes is named with one prefix, so a run killed
// half-way is cleaned up by the next one.
import { execFileSync } from 'node:child_process';
import type { HostNet } from './p2p-fleet.ts';

/** Every namespace of the benchmark starts with it; nothing else is ever deleted. */
export const namespacePrefix = 'fcswarm-';
const bridgeNamespace = `${namespacePrefix}br`;
const subnet = '10.77.0';

export interface SwarmHosts {
  /** Tracker, NATS, DHT bootstrap and the benchmark's own runner. */
  control: HostNet;
  seed: HostNet;
  downloaders: HostNet[];
}

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Why the benchmark cannot run here, or null. */
export function missingPrivileges(): string | null {
  if (process.getuid?.() !== 0) return 'the swarm benchmark makes network namespaces: run it as root';
  for (const tool of ['ip', 'tc', 'aria2c', 'opentracker', 'mktorrent']) {
    try {
      run('sh', ['-c', `command -v ${tool}`]);
    } catch {
      return `${tool} is not installed: run ops/ensure-swarm-tools.sh`;
    }
  }
  return null;
}

/**
 * Deletes every namespace with the prefix, after killing the processes still inside (a run
 * killed with -9 leaves its seeders, agents and aria2c there; they are this benchmark's).
 */
export function removeSwarmNetwork(): void {
  const names = run('ip', ['netns', 'list'])
    .split('\n')
    .map((line) => line.split(' ')[0]!)
    .filter((name) => name.startsWith(namespacePrefix));
  for (const name of names) {
    for (const pid of run('ip', ['netns', 'pids', name]).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const name of names) run('ip', ['netns', 'delete', name]);
}

/**
 * Makes the hosts: control (.1), seed (.2), downloaders (.11 …), each capped at `rateMbit`
 * both ways (null: no qdisc, the veth's own speed).
 */
export function makeSwarmNetwork(downloaders: number, rateMbit: number | null): SwarmHosts {
  removeSwarmNetwork();
  run('ip', ['netns', 'add', bridgeNamespace]);
  run('ip', ['-n', bridgeNamespace, 'link', 'add', 'br0', 'type', 'bridge']);
  run('ip', ['-n', bridgeNamespace, 'link', 'set', 'br0', 'up']);
  const host = (name: string, octet: number): HostNet => {
    const namespace = `${namespacePrefix}${name}`;
    const port = `v-${name}`;
    const address = `${subnet}.${octet}`;
    run('ip', ['netns', 'add', namespace]);
    run('ip', ['-n', bridgeNamespace, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespace]);
    run('ip', ['-n', bridgeNamespace, 'link', 'set', port, 'master', 'br0', 'up']);
    run('ip', ['-n', namespace, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    run('ip', ['-n', namespace, 'link', 'set', 'eth0', 'up']);
    run('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
    if (rateMbit !== null) {
      const tbf = ['root', 'tbf', 'rate', `${rateMbit}mbit`, 'burst', '64kb', 'latency', '50ms'];
      run('tc', ['-n', namespace, 'qdisc', 'add', 'dev', 'eth0', ...tbf]);
      run('tc', ['-n', bridgeNamespace, 'qdisc', 'add', 'dev', port, ...tbf]);
    }
    return { namespace, address };
  };
  return { control: host('ctl', 1), seed: host('seed', 2), downloaders: Array.from({ length: downloaders }, (_, i) => host(`d${i + 1}`, 11 + i)) };
}

/** Bytes the host has sent on its link so far (its veth's counter). */
export function sentBytes(host: HostNet): number {
  const [link] = JSON.parse(run('ip', ['-n', host.namespace, '-s', '-j', 'link', 'show', 'dev', 'eth0'])) as { stats64: { tx: { bytes: number } } }[];
  return link!.stats64.tx.bytes;
}
