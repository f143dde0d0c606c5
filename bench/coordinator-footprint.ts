// npx tsx bench/coordinator-footprint.ts [--root DIR] [--runs N]
// What one coordinator process costs in memory, and whether it loads the agent's P2P stack:
// starts a coordinator (SQLite in a temp dir, no NATS, any free port) in a fresh `node --import
// tsx` process, waits until it is ready, and prints its RSS and the P2P packages it loaded.
// `--root` measures another checkout (e.g. an older commit unpacked beside node_modules).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const root = path.resolve(args.includes('--root') ? args[args.indexOf('--root') + 1]! : path.join(here, '..'));
const runs = args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 3;

/** The child: start, measure once ready, stop. CommonJS packages (all of Holepunch's) land in the require cache. */
const child = `
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
const { runCoordinator, loadCoordinatorConfig } = await import(pathToFileURL(path.join(${JSON.stringify(root)}, 'coordinator/index.ts')).href);
globalThis.gc?.();
const imported = process.memoryUsage().rss;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-footprint-'));
const config = loadCoordinatorConfig({ env: { FLEETCAST_DATA_DIR: dir, FLEETCAST_LISTEN: '127.0.0.1:0', FLEETCAST_LOG_LEVEL: 'silent' } });
const handle = await runCoordinator(config, { withoutNats: true });
await new Promise((resolve) => setTimeout(resolve, 1000));
globalThis.gc?.();
const rss = process.memoryUsage().rss;
const cache = Object.keys(createRequire(import.meta.url).cache);
const p2p = ['hypercore', 'hyperswarm', 'hyperdht', 'corestore', 'hypercore-storage', 'rocksdb-native', 'udx-native'].filter((name) => cache.some((file) => file.includes('/node_modules/' + name + '/')));
await handle.stop();
fs.rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ imported, rss, p2p }));
`;

const samples: { imported: number; rss: number; p2p: string[] }[] = [];
for (let i = 0; i < runs; i++) {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', child], { cwd: root, encoding: 'utf8' });
  samples.push(JSON.parse(out.trim().split('\n').pop()!));
}
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
const median = (values: number[]) => mib([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!);
console.log(`coordinator under tsx (${root}), ${runs} runs:`);
console.log(`  RSS once its modules are imported: median ${median(samples.map((s) => s.imported))} MiB (${samples.map((s) => mib(s.imported)).join(', ')})`);
console.log(`  RSS once ready (SQLite, no NATS):  median ${median(samples.map((s) => s.rss))} MiB (${samples.map((s) => mib(s.rss)).join(', ')})`);
console.log(`  P2P packages loaded: ${samples[0]!.p2p.join(', ') || 'none'}`);
