// A regional seeder for the P2P benchmark, in a process of its own: runSeeder, exactly what
// `fleetcast seeder` runs, configured from FLEETCAST_* in the environment, plus one JSON line of
// its status on stdout every 200 ms (what it seeds, bytes uploaded per build, bytes read from
// the bucket) — the egress the benchmark reports, which a plain `fleetcast seeder` keeps to
// itself. Logs (JSON) go to stderr. Stops on SIGTERM.
import { loadSeederConfig, runSeeder } from '../edge-agent/index.ts';
import { createLogger } from '../logging/index.ts';

const config = loadSeederConfig({ env: process.env });
const logger = createLogger({ level: config.FLEETCAST_LOG_LEVEL, bindings: { role: 'seeder', region: config.FLEETCAST_REGION } });
const handle = await runSeeder(config, { logger, retryMs: 500 });
const report = () => process.stdout.write(JSON.stringify({ at: Date.now(), ...handle.seeder.status() }) + '\n');
const timer = setInterval(report, 200);
report();
await new Promise<void>((resolve) => {
  process.once('SIGTERM', resolve);
  process.once('SIGINT', resolve);
});
clearInterval(timer);
report();
await handle.stop();
process.exit(0);
