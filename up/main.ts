import path from 'node:path';
import { loadConfig, type ConfigSources } from '../config/index.ts';
import { createLogger } from '../logging/index.ts';
import { runUp } from './run-up.ts';
import { StatusBoard } from './status-board.ts';
import { upFilePath } from './up-file.ts';

export interface UpCommandOptions {
  regions?: string;
  agents?: string;
  workers?: string;
  seeders?: string;
  dir?: string;
  /** `--ha`: clustered NATS (3 hub servers, 3 leaf servers per region) and 2 coordinators. */
  ha?: boolean;
}

/** Settings passed on to every process of the installation when set here. */
// Not passed on: what up itself chooses per process (listen addresses, NATS URLs, data and
// agent dirs, regions, machine and worker ids, the DHT) — those it sets for each child.
const passedOn =
  /^FLEETCAST_(DATABASE_URL|BLOBSTORE|BUCKET_PREFIX|GCS_|SECRET|API_TOKEN|WEBHOOK_SECRET|DEPLOY_WAVES|WAVE_|AGENT_|P2P_|SEEDER_|STATUS_|HEARTBEAT_|BUILD_TIMEOUT|MAX_ATTEMPTS|REAPER_INTERVAL|REPLICATION_|AUDIT_EVERY|RETENTION_KEEP|GOAL_HISTORY|MIN_FREE_DISK|WORKER_CONCURRENCY|PERMISSIONS|SLACK_|BOT_)/;

/** `fleetcast up`: starts everything, shows it live, stops it all on Ctrl-C / SIGTERM. */
export async function main(options: UpCommandOptions, sources: ConfigSources = {}): Promise<void> {
  const config = loadConfig(['FLEETCAST_DATA_DIR', 'FLEETCAST_LOG_LEVEL', 'FLEETCAST_AGENT_LOG_MAX', 'FLEETCAST_AGENT_LOG_KEEP'], sources);
  const dir = path.resolve(options.dir ?? config.FLEETCAST_DATA_DIR);
  const logger = createLogger({ level: config.FLEETCAST_LOG_LEVEL, bindings: { role: 'up' } });
  const env = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => passedOn.test(entry[0]) && entry[1] !== undefined));
  // The processes log into <dir>/logs at info at least: `up` learns from their '<role> ready' lines.
  if (config.FLEETCAST_LOG_LEVEL === 'debug' || config.FLEETCAST_LOG_LEVEL === 'trace') env.FLEETCAST_LOG_LEVEL = config.FLEETCAST_LOG_LEVEL;
  const say = (text: string) => process.stdout.write(text + '\n');
  say(`fleetcast up: starting an installation in ${dir} (logs in ${path.join(dir, 'logs')})`);
  // Listening before anything starts: a signal that comes while the installation starts (or just
  // after up.json is written) stops it cleanly once it is up, instead of killing `up` outright.
  const stopAsked = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  const up = await runUp({
    dir,
    ...(options.regions ? { regions: options.regions.split(',').map((r) => r.trim()).filter(Boolean) } : {}),
    ...(options.agents ? { agentsPerRegion: positive(options.agents, '--agents') } : {}),
    ...(options.workers ? { workers: positive(options.workers, '--workers') } : {}),
    ...(options.seeders ? { seedersPerRegion: positive(options.seeders, '--seeders') } : {}),
    env,
    ...(options.ha ? { ha: true } : {}),
    // The roles' logs are rotated like the agents' service logs.
    log: { maxBytes: config.FLEETCAST_AGENT_LOG_MAX, keep: config.FLEETCAST_AGENT_LOG_KEEP },
    logger,
  });
  say(`ready: API ${(up.file.apiUrls ?? [up.file.apiUrl]).join(' ')}, regions ${up.file.regions.join(', ')}, NATS hub ${(up.file.hubServers ?? [up.file.hub]).map((url) => new URL(url).host).join(' ')}`);
  say(`dashboard: ${up.file.apiUrl}/dashboard/ (sign in with the admin token in ${upFilePath(dir)}, or a token of the permissions file; the browser must trust the installation's CA, ${up.file.ca ?? '<dir>/tls/ca.crt'})`);
  say(`client commands find it with: export FLEETCAST_DATA_DIR=${dir}   (then e.g. fleetcast status)`);
  say('Ctrl-C stops everything.');
  const board = new StatusBoard(up.processes, process.stdout);
  await stopAsked;
  board.stop();
  say('stopping…');
  await up.stop();
  say('stopped.');
}

function positive(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`${flag} ${text}: give a whole number from 1 to 64`);
  return n;
}
