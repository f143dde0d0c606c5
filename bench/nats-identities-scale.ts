// npx tsx bench/nats-identities-scale.ts [COUNT]
// What per-machine NATS identities cost at fleet scale: a registry of COUNT agent identities
// (default 100,000, one region), the time of one `issue` and one `revoke` against it, and one
// leaf nats-server whose users file holds all of them — its start, memory, and reload (what a
// revocation costs). Prints one line per measure. Not part of `npm run bench`: it takes minutes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { nkeys } from '@nats-io/nats-core';
import { freePort } from '../ops/nats/free-port.ts';
import { NatsServerProcess } from '../ops/nats/nats-server-process.ts';
import { renderLeafConfig } from '../ops/nats/render-config.ts';
import { renderLeafUsers } from '../ops/nats/users-config.ts';
import { NatsIdentityRegistry, type NatsIdentity } from '../trust/index.ts';

const count = Number(process.argv[2] ?? 100_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-identity-scale-'));
const say = (what: string, value: number, unit: string) => console.log(`${what}: ${value.toFixed(unit === 'ms' ? 0 : 1)} ${unit}`);
try {
  const identities: NatsIdentity[] = Array.from({ length: count }, (_, i) => ({
    name: `agent-eu-m${i}`, role: 'agent', region: 'eu', machine: `m${i}`, publicKey: nkeys.createUser().getPublicKey(), issuedAt: new Date().toISOString(),
  }));
  const registry = new NatsIdentityRegistry(path.join(dir, 'registry'));
  fs.mkdirSync(registry.dir);
  fs.writeFileSync(registry.file, JSON.stringify({ version: 1, identities }, null, 2));
  say(`registry of ${count} identities`, fs.statSync(registry.file).size / 2 ** 20, 'MiB');
  let t = performance.now();
  registry.issue({ role: 'agent', region: 'eu', machine: 'new-1' });
  say('issue one more', performance.now() - t, 'ms');
  t = performance.now();
  registry.revoke({ role: 'agent', region: 'eu', machine: 'm17' });
  say('revoke one', performance.now() - t, 'ms');
  t = performance.now();
  const users = renderLeafUsers({ region: 'eu', adminPassword: 'admin', identities: registry.active() });
  fs.writeFileSync(path.join(dir, 'users.conf'), users);
  say('render the leaf users file', performance.now() - t, 'ms');
  say('leaf users file', users.length / 2 ** 20, 'MiB');
  const clientPort = await freePort();
  const monitorPort = await freePort();
  fs.writeFileSync(path.join(dir, 'leaf.conf'), renderLeafConfig({ region: 'eu', clientPort, monitorPort, storeDir: path.join(dir, 'store'), hubLeafUrl: `nats-leaf://leaf:x@127.0.0.1:${await freePort()}`, usersFile: 'users.conf' }));
  const server = new NatsServerProcess({ name: 'leaf-eu', configFile: path.join(dir, 'leaf.conf'), logFile: path.join(dir, 'leaf.log'), monitorUrl: `http://127.0.0.1:${monitorPort}` });
  t = performance.now();
  await server.start(300_000);
  say('leaf start to healthy', performance.now() - t, 'ms');
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${server.pid}/status`, 'utf8'))![1]) / 1024;
  say('leaf RSS', rss(), 'MiB');
  t = performance.now();
  await server.reload(300_000);
  say('leaf reload (SIGHUP until loaded)', performance.now() - t, 'ms');
  say('leaf RSS after reload', rss(), 'MiB');
  await server.stop();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
