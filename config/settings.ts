import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { byteSize } from './byte-size.ts';
import { durationMs } from './duration.ts';

const regionName = /^[a-z0-9-]+$/;

/** `host:port`, `[::1]:port`; port 0 lets the OS choose (tests). */
const listenAddress = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** A DHT node, `host:port` (an IPv4 address or a host name). */
const dhtNode = /^([A-Za-z0-9.-]+):(\d{1,5})$/;

/** Where `fleetcast dht` listens and where every P2P role looks for it by default (hyperdht's usual port). */
export const defaultDhtAddress = '127.0.0.1:49737';

/** A rate such as `80M` (bytes per second); unset: unlimited. */
const byteRate = byteSize.refine((bytes) => bytes > 0, 'must be more than 0 bytes per second; leave it unset for no limit').optional();

/** `nats://[user:password@]host:port` (or `tls://`), the form the NATS client and the servers' configs use. */
const natsUrl = /^(nats|tls):\/\/([^@/\s]+@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

/**
 * Every setting fleetcast reads, by environment variable. Each is also a flag of the role that
 * uses it (`FLEETCAST_DATABASE_URL` ↔ `--database-url`). Defaults are those of DESIGN.md.
 */
export const settings = {
  FLEETCAST_DATA_DIR: z.string().min(1).default(path.join(os.homedir(), '.fleetcast')),
  FLEETCAST_DATABASE_URL: z
    .string()
    .regex(/^mysql:\/\/[^/]+\/[A-Za-z0-9_$-]+(\?.*)?$/, 'must look like mysql://user:pass@host:port/db')
    .optional(),
  FLEETCAST_REGIONS: z
    .string()
    .default('local')
    .transform((text) => text.split(',').map((region) => region.trim()).filter(Boolean))
    .pipe(
      z
        .array(z.string().regex(regionName, 'region names are lower-case letters, digits and dashes'))
        .min(1, 'name at least one region')
        .refine((regions) => new Set(regions).size === regions.length, 'a region is named twice'),
    ),
  FLEETCAST_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** How often a worker proves it is alive while it holds a claim. */
  FLEETCAST_HEARTBEAT_INTERVAL: durationMs.default(5_000),
  /** A claim whose last heartbeat is older than this is taken back by the reaper. */
  FLEETCAST_HEARTBEAT_TIMEOUT: durationMs.default(30_000),
  /** A build running longer than this is failed as timed out. */
  FLEETCAST_BUILD_TIMEOUT: durationMs.default(15 * 60_000),
  /** Claims of one build before a lost worker fails it for good. */
  FLEETCAST_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(3),
  /** How often the reaper looks for stale claims. */
  FLEETCAST_REAPER_INTERVAL: durationMs.default(5_000),
  /** Where the coordinator's HTTP API listens (and, for `fleetcast dht`, the DHT node's UDP socket). */
  FLEETCAST_LISTEN: z
    .string()
    .trim()
    .default('127.0.0.1:7070')
    .refine((text) => listenAddress.test(text) && Number(listenAddress.exec(text)![2]) <= 65_535, 'must be host:port, e.g. 127.0.0.1:7070 or [::1]:7070')
    .transform((text) => {
      const [, host, port] = listenAddress.exec(text)!;
      return { host: host!.replace(/^\[|\]$/g, ''), port: Number(port) };
    }),
  /** HMAC secret of the git push webhook; without it POST /v1/hooks/git is off. */
  FLEETCAST_WEBHOOK_SECRET: z.string().min(16, 'use at least 16 characters, e.g. the output of: openssl rand -hex 32').optional(),
  /** JSON file of API tokens and their scopes (README, "Permissions file"). */
  FLEETCAST_PERMISSIONS: z.string().min(1).optional(),
  /** Where clients (CLI, bot) find the coordinator. */
  FLEETCAST_API_URL: z
    .string()
    .trim()
    .regex(/^https?:\/\/[^/\s]+(\/\S*)?$/, 'must be an http(s) URL such as http://127.0.0.1:7070')
    .transform((url) => url.replace(/\/+$/, ''))
    .optional(),
  /** The bearer token clients send to the coordinator. */
  FLEETCAST_API_TOKEN: z.string().trim().min(1).optional(),
  FLEETCAST_BLOBSTORE: z.enum(['fs', 'gcs']).default('fs'),
  FLEETCAST_BUCKET_PREFIX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes, starting with a letter or digit')
    .default('fleetcast'),
  /** The GCS JSON API's address; unset means STORAGE_EMULATOR_HOST, else Google's. */
  FLEETCAST_GCS_ENDPOINT: z.url().optional(),
  FLEETCAST_GCS_PROJECT: z.string().min(1).optional(),
  /** Names a builder in claims and logs. */
  FLEETCAST_WORKER_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, 'letters, digits, ".", "_" and "-"')
    .default(`${os.hostname()}-${process.pid}`),
  /** Builds one worker process runs at once. */
  FLEETCAST_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  /** Copies into each region one replicator runs at once; 0: this coordinator runs no replicator. */
  FLEETCAST_REPLICATION_CONCURRENCY: z.coerce.number().int().min(0).max(64).default(2),
  /** Tries of one copy before it is FAILED. */
  FLEETCAST_REPLICATION_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  /** Each regional copy is read back and re-hashed this often. */
  FLEETCAST_AUDIT_EVERY: durationMs.default(24 * 3_600_000),
  /** Newest builds per service whose regional copies retention keeps. */
  FLEETCAST_RETENTION_KEEP: z.coerce.number().int().min(1).default(20),
  /** A builder refuses to start a build with less free disk than this in its work folder. */
  FLEETCAST_MIN_FREE_DISK: byteSize.default(2 * 1024 ** 3),
  /** The NATS hub (coordinator) or the region's leaf (seeders, agents); may carry user:password@. */
  FLEETCAST_NATS_URL: z
    .string()
    .trim()
    .default('nats://127.0.0.1:4222')
    .refine(
      (text) => text.split(',').every((url) => natsUrl.test(url.trim())),
      'must be nats://[user:password@]host:port (several separated by commas)',
    ),
  /** Goals kept per service and region in the global `goal` bucket (rollback without SQL). */
  FLEETCAST_GOAL_HISTORY: z.coerce.number().int().min(2).max(64).default(20),
  /** How often an agent re-reports an unchanged state, so the coordinator can tell it is alive. */
  FLEETCAST_STATUS_INTERVAL: durationMs.default(30_000),
  /** A machine whose last report is older than this counts as silent. */
  FLEETCAST_STATUS_SILENT_AFTER: durationMs.default(90_000),
  /** The cluster secret (P2P key pairs); unset: `<data dir>/secret`, generated on first use. */
  FLEETCAST_SECRET: z.string().trim().min(32, 'use at least 32 characters, e.g. the output of: openssl rand -hex 32').optional(),
  /** The region a seeder (or an agent) serves: it watches that region's goals and meets that region's peers. */
  FLEETCAST_REGION: z
    .string({ error: (issue) => (issue.input === undefined ? 'name the region this process serves, e.g. --region eu' : 'must be a region name') })
    .trim()
    .regex(regionName, 'region names are lower-case letters, digits and dashes'),
  /** DHT nodes P2P peers meet through (FLEETCAST_DHT_BOOTSTRAP=10.0.0.5:49737,10.0.0.6:49737). */
  FLEETCAST_DHT_BOOTSTRAP: z
    .string()
    .default(defaultDhtAddress)
    .transform((text) => text.split(',').map((node) => node.trim()).filter(Boolean))
    .pipe(
      z
        .array(z.string().refine((node) => dhtNode.test(node) && Number(dhtNode.exec(node)![2]) <= 65_535, 'each node must be host:port, e.g. 10.0.0.5:49737'))
        .min(1, 'name at least one DHT node (host:port)'),
    )
    .transform((nodes) => nodes.map((node) => ({ host: dhtNode.exec(node)![1]!, port: Number(dhtNode.exec(node)![2]) }))),
  /** Bytes per second this machine uploads to all its P2P peers together. */
  FLEETCAST_P2P_UPLOAD_LIMIT: byteRate,
  /** Bytes per second this machine downloads from all its P2P peers together. */
  FLEETCAST_P2P_DOWNLOAD_LIMIT: byteRate,
  /** P2P connections one machine keeps at most (seeders: agents served at once). */
  FLEETCAST_P2P_MAX_PEERS: z.coerce.number().int().min(1).max(10_000).default(64),
  /** Where a seeder keeps its cores; unset: `<data dir>/seeder/<region>`. */
  FLEETCAST_SEEDER_DIR: z.string().min(1).optional(),
  /** Newest builds per service in the regional bucket a seeder turns into cores before any deploy. */
  FLEETCAST_SEEDER_PREHEAT: z.coerce.number().int().min(0).max(100).default(2),
  /** How often a seeder lists the regional bucket for builds to preheat. */
  FLEETCAST_SEEDER_SCAN_EVERY: durationMs.default(30_000),
} as const;

export type SettingName = keyof typeof settings;
type Settings = typeof settings;
export type SettingValues<K extends SettingName> = { [P in K]: z.output<Settings[P]> };

/** `FLEETCAST_DATABASE_URL` → `--database-url`. */
export function flagName(setting: SettingName): string {
  return '--' + setting.replace(/^FLEETCAST_/, '').toLowerCase().replaceAll('_', '-');
}

/** One line per setting, for `--help`. */
export const settingHelp: Record<SettingName, string> = {
  FLEETCAST_DATA_DIR: 'where this installation keeps its state (default ~/.fleetcast)',
  FLEETCAST_DATABASE_URL: 'mysql://user:pass@host:port/db (default: SQLite in the data dir)',
  FLEETCAST_REGIONS: 'comma-separated region names (default local)',
  FLEETCAST_LOG_LEVEL: 'trace|debug|info|warn|error|fatal|silent (default info)',
  FLEETCAST_HEARTBEAT_INTERVAL: 'how often a worker heartbeats its build (default 5s)',
  FLEETCAST_HEARTBEAT_TIMEOUT: 'a build without a heartbeat this long is taken back (default 30s)',
  FLEETCAST_BUILD_TIMEOUT: 'a build running longer fails as timed out (default 15m)',
  FLEETCAST_MAX_ATTEMPTS: 'claims of a build before lost workers fail it (default 3)',
  FLEETCAST_REAPER_INTERVAL: 'time between reaper sweeps (default 5s)',
  FLEETCAST_LISTEN: `host:port this role listens on: the coordinator's HTTP API (default 127.0.0.1:7070), a DHT node's UDP socket (fleetcast dht; default ${defaultDhtAddress}); port 0: any free port`,
  FLEETCAST_WEBHOOK_SECRET: 'HMAC secret of the git push webhook POST /v1/hooks/git (default: webhook off; prefer the variable: flags show in ps)',
  FLEETCAST_PERMISSIONS: 'JSON file of API tokens and their scopes (default: only the generated <data dir>/api-token)',
  FLEETCAST_API_URL: 'coordinator URL for client commands (default: <data dir>/up.json, else http://127.0.0.1:7070)',
  FLEETCAST_API_TOKEN: 'API token for client commands (default: <data dir>/up.json, else <data dir>/api-token)',
  FLEETCAST_BLOBSTORE: 'fs or gcs (default fs: <data dir>/buckets/<bucket>/)',
  FLEETCAST_BUCKET_PREFIX: 'buckets are <prefix>-main and <prefix>-<region> (default fleetcast)',
  FLEETCAST_GCS_ENDPOINT: "GCS JSON API address (default STORAGE_EMULATOR_HOST, else Google's)",
  FLEETCAST_GCS_PROJECT: 'GCS project, to create buckets (default the client library\'s)',
  FLEETCAST_WORKER_ID: 'this builder\'s name in claims and logs (default <hostname>-<pid>)',
  FLEETCAST_WORKER_CONCURRENCY: 'builds one worker process runs at once (default 1)',
  FLEETCAST_REPLICATION_CONCURRENCY: 'copies into each region a replicator runs at once; 0 = no replicator in the coordinator (default 2)',
  FLEETCAST_REPLICATION_ATTEMPTS: 'tries of one copy before it is FAILED (default 5)',
  FLEETCAST_AUDIT_EVERY: 'how often each regional copy is read back and re-hashed (default 1d)',
  FLEETCAST_RETENTION_KEEP: 'newest builds per service kept in regional buckets (default 20)',
  FLEETCAST_MIN_FREE_DISK: 'free disk a builder needs to start a build, e.g. 2G (default 2G)',
  FLEETCAST_NATS_URL: 'nats://[user:password@]host:port of the NATS hub (coordinator) or of the region\'s leaf (seeders, agents) (default nats://127.0.0.1:4222)',
  FLEETCAST_GOAL_HISTORY: 'goals kept per service and region in the goal bucket, for rollback (default 20, at most 64)',
  FLEETCAST_STATUS_INTERVAL: 'how often an agent re-reports an unchanged state (default 30s)',
  FLEETCAST_STATUS_SILENT_AFTER: 'a machine without a report for this long counts as silent (default 90s)',
  FLEETCAST_SECRET: 'cluster secret the P2P keys derive from; the same on every coordinator and seeder (default: <data dir>/secret, generated; prefer the variable: flags show in ps)',
  FLEETCAST_REGION: 'the region this seeder or agent serves (required)',
  FLEETCAST_DHT_BOOTSTRAP: `comma-separated host:port of the DHT nodes P2P peers meet through, e.g. those of fleetcast dht (default ${defaultDhtAddress})`,
  FLEETCAST_P2P_UPLOAD_LIMIT: 'bytes per second this machine uploads to its P2P peers, all together, e.g. 80M (default: no limit)',
  FLEETCAST_P2P_DOWNLOAD_LIMIT: 'bytes per second this machine downloads from its P2P peers, all together, e.g. 200M (default: no limit)',
  FLEETCAST_P2P_MAX_PEERS: 'P2P connections this machine keeps at most (default 64)',
  FLEETCAST_SEEDER_DIR: "where a seeder keeps its cores, about one artifact's size each (default <data dir>/seeder/<region>)",
  FLEETCAST_SEEDER_PREHEAT: 'newest builds per service in the regional bucket a seeder prepares before they are deployed; 0: goals only (default 2)',
  FLEETCAST_SEEDER_SCAN_EVERY: 'how often a seeder lists the regional bucket for builds to preheat (default 30s)',
};
