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

/** A `host:port` setting parsed to `{ host, port }` (brackets of an IPv6 host removed). */
function listenSetting(defaultValue: string) {
  return z
    .string()
    .trim()
    .default(defaultValue)
    .refine((text) => listenAddress.test(text) && Number(listenAddress.exec(text)![2]) <= 65_535, `must be host:port, e.g. ${defaultValue} or [::1]:${defaultValue.split(':')[1]}`)
    .transform((text) => {
      const [, host, port] = listenAddress.exec(text)!;
      return { host: host!.replace(/^\[|\]$/g, ''), port: Number(port) };
    });
}

/** Slack ids: users U…/W…, user groups S…, channels C…/G…/D… (upper-case letters and digits). */
const slackChannelId = /^[CGD][A-Z0-9]{2,30}$/;

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
  FLEETCAST_LISTEN: listenSetting('127.0.0.1:7070'),
  /** HMAC secret of the git push webhook; without it POST /v1/hooks/git is off. */
  FLEETCAST_WEBHOOK_SECRET: z.string().min(16, 'use at least 16 characters, e.g. the output of: openssl rand -hex 32').optional(),
  /** JSON file of API tokens and their scopes, and the Slack users and groups allowed to change things (README, "Permissions file"). */
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
  FLEETCAST_BLOBSTORE: z.enum(['fs', 'gcs', 's3']).default('fs'),
  FLEETCAST_BUCKET_PREFIX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes, starting with a letter or digit')
    .default('fleetcast'),
  /** The GCS JSON API's address; unset means STORAGE_EMULATOR_HOST, else Google's. */
  FLEETCAST_GCS_ENDPOINT: z.url().optional(),
  FLEETCAST_GCS_PROJECT: z.string().min(1).optional(),
  /** The S3 API's address for S3-compatible servers (MinIO, Ceph, R2); unset means AWS's for the region. */
  FLEETCAST_S3_ENDPOINT: z.url().optional(),
  /** The buckets' region; unset means the SDK's (AWS_REGION, the profile), or us-east-1 with an endpoint. */
  FLEETCAST_S3_REGION: z.string().trim().regex(/^[a-z0-9-]+$/, 'a region name such as eu-west-1 (auto for R2)').optional(),
  /** `<endpoint>/<bucket>/key` instead of `<bucket>.<endpoint>/key`: most S3-compatible servers need it. */
  FLEETCAST_S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).default('false').transform((text) => text === 'true'),
  /** Part size of multipart uploads (parts double every 2,000): memory of an upload is about 5 parts. */
  FLEETCAST_S3_PART_SIZE: byteSize.refine((bytes) => bytes >= 5 * 1024 ** 2 && bytes <= 5 * 1024 ** 3, "S3's parts are 5M to 5G").default(8 * 1024 ** 2),
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
  /** The one region an agent (or seeder) belongs to: it watches goal-<region> on that region's leaf and reads <prefix>-<region>. */
  FLEETCAST_REGION: z
    .string()
    .trim()
    .default('local')
    .refine((text) => regionName.test(text) && text !== 'hub', 'a region name: lower-case letters, digits and dashes, not "hub"'),
  /** This machine's id in status reports and the default agent dir; one NATS subject token (no dots). */
  FLEETCAST_MACHINE: z
    .string()
    .trim()
    .default(os.hostname().replace(/[^A-Za-z0-9_-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 128) || 'machine')
    .refine((text) => /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/.test(text), 'letters, digits, "_" and "-", starting with a letter or digit (no dots; at most 128)'),
  /** Where an agent keeps its builds; unset: `<data dir>/agents/<region>-<machine>`. */
  FLEETCAST_AGENT_DIR: z.string().min(1).optional(),
  /** Services this agent runs, comma-separated; unset or empty: every service with a goal in its region. */
  FLEETCAST_AGENT_SERVICES: z
    .string()
    .optional()
    .transform((text) => {
      const services = (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      return services.length > 0 ? services : undefined;
    })
    .pipe(z.array(z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'service names are a lower-case letter, then lower-case letters, digits and dashes')).optional()),
  /** Verified builds kept per service (the running one included), so a rollback to one of them needs no transfer. */
  FLEETCAST_AGENT_CACHE_BUILDS: z.coerce.number().int().min(1).max(100).default(3),
  /** Cached builds (never the running or goal one) are removed while free disk in the agent dir is below this. */
  FLEETCAST_AGENT_MIN_FREE_DISK: byteSize.default(1024 ** 3),
  /** After a switch, the new build's process must stay up this long to count as healthy. */
  FLEETCAST_AGENT_HEALTH_GRACE: durationMs.default(10_000),
  /** After a switch, the goal's health URL must answer 2xx within this long. */
  FLEETCAST_AGENT_HEALTH_TIMEOUT: durationMs.default(60_000),
  /** Without a byte from any peer for this long, the agent reads the build from the regional bucket instead. */
  FLEETCAST_AGENT_BUCKET_FALLBACK: durationMs.default(30_000),
  /**
   * How long a fetch waits to meet a first peer holding the build before reading the bucket: the
   * region's seeders make the build's core once it reaches the regional bucket (about a minute per
   * 10 GiB); falling back after 30 s would send the whole region to the bucket (bench/sim).
   */
  FLEETCAST_AGENT_SEEDER_WAIT: durationMs.default(300_000),
  /** Bytes per second an agent reads from the regional bucket (`50M`); `0`: unlimited. */
  FLEETCAST_AGENT_BUCKET_RATE: byteSize.default(100 * 1024 ** 2),
  /** A command the agent runs to switch a service (e.g. `systemctl restart app@$FLEETCAST_BUILD_ID`) instead of supervising its run command. */
  FLEETCAST_AGENT_RUN_HOOK: z.string().trim().min(1).max(4000).optional(),
  /** A service's output is kept in files of this size (and `fleetcast up` keeps each role's log so). */
  FLEETCAST_AGENT_LOG_MAX: byteSize.refine((bytes) => bytes >= 1024, 'at least 1K').default(10 * 1024 ** 2),
  /** Log files kept per service build (and per `fleetcast up` role), the one being written included. */
  FLEETCAST_AGENT_LOG_KEEP: z.coerce.number().int().min(1).max(100).default(5),
  /** Fetch from the region's peers (P2P, the bucket behind them); false: from the regional bucket only. */
  FLEETCAST_AGENT_P2P: z.enum(['true', 'false']).default('true').transform((text) => text === 'true'),
  /** Stop the services too when the agent stops (fleetcast up); by default they outlive it, so an agent upgrade is no outage. */
  FLEETCAST_AGENT_STOP_SERVICES: z.enum(['true', 'false']).default('false').transform((text) => text === 'true'),
  /** How a deploy rolls out: `canary` (first region, then the rest), `all`, or waves such as `eu;us,ap`. */
  FLEETCAST_DEPLOY_WAVES: z
    .string()
    .trim()
    .default('canary')
    .refine((text) => /^(canary|all|[a-z0-9-]+(,[a-z0-9-]+)*(;[a-z0-9-]+(,[a-z0-9-]+)*)*)$/.test(text), 'write canary, all, or waves of regions such as eu;us,ap'),
  /** With the first wave, the later waves' regions fetch the build into their agents' caches (run nothing). */
  FLEETCAST_DEPLOY_PREFETCH: z.enum(['true', 'false']).default('true').transform((text) => text === 'true'),
  /** Failed machines a wave tolerates before the rollout halts, as a fraction of its machines (0.01 = 1 %). */
  FLEETCAST_WAVE_MAX_FAILED: z.coerce.number().min(0).max(1).default(0),
  /** Share of a wave's live machines done with the build (running, or failed within the tolerance) before the next wave is written. */
  FLEETCAST_WAVE_MIN_DONE: z.coerce.number().gt(0, 'a share above 0, at most 1 (e.g. 0.99)').max(1, 'a share above 0, at most 1 (e.g. 0.99)').default(1),
  /** A wave whose machines have not converged this long after its goals were written fails. */
  FLEETCAST_WAVE_TIMEOUT: durationMs.default(30 * 60_000),
  /** Wait this long after a wave converged before writing the next. */
  FLEETCAST_WAVE_SOAK: durationMs.default(0),
  /** The cluster secret (P2P key pairs); unset: `<data dir>/secret`, generated on first use. */
  FLEETCAST_SECRET: z.string().trim().min(32, 'use at least 32 characters, e.g. the output of: openssl rand -hex 32').optional(),
  /** The Slack app's signing secret: the bot verifies every HTTP request with it (HTTP mode). */
  FLEETCAST_SLACK_SIGNING_SECRET: z.string().trim().min(16, "the app's Signing Secret (Basic Information → App Credentials), at least 16 characters").optional(),
  /** The bot user's OAuth token (xoxb-…): the bot posts and updates messages with it. */
  FLEETCAST_SLACK_BOT_TOKEN: z.string().trim().regex(/^xoxb-\S+$/, 'a bot token starts with xoxb- (OAuth & Permissions → Bot User OAuth Token)').optional(),
  /** An app-level token (xapp-…, scope connections:write): set, the bot runs in Socket Mode. */
  FLEETCAST_SLACK_APP_TOKEN: z.string().trim().regex(/^xapp-\S+$/, 'an app-level token starts with xapp- (Basic Information → App-Level Tokens, scope connections:write)').optional(),
  /** The Slack Web API base URL; tests point it at a local server. */
  FLEETCAST_SLACK_API_URL: z
    .string()
    .trim()
    .default('https://slack.com/api/')
    .refine((url) => /^https?:\/\/[^/\s]+(\/\S*)?$/.test(url), 'must be an http(s) URL such as https://slack.com/api/')
    .transform((url) => url.replace(/\/*$/, '/')),
  /** Where the bot listens for Slack's requests (HTTP mode; they arrive at /slack/events). */
  FLEETCAST_BOT_LISTEN: listenSetting('127.0.0.1:3000'),
  /** The channel each service's finished builds and deploys are announced in: `api=C0123,web=C0456,*=C0789`. */
  FLEETCAST_SLACK_CHANNELS: z
    .string()
    .default('')
    .transform((text) => text.split(',').map((pair) => pair.trim()).filter(Boolean))
    .pipe(
      z
        .array(
          z
            .string()
            .transform((pair) => pair.split('=').map((part) => part.trim()))
            .refine(
              (parts) => parts.length === 2 && /^(\*|[a-z0-9][a-z0-9._-]*)$/.test(parts[0]!) && slackChannelId.test(parts[1]!),
              'pairs are service=CHANNEL_ID (or *=CHANNEL_ID for every other service), e.g. api=C0123ABCD (the id is in the channel\'s details)',
            )
            .transform((parts) => parts as [string, string]),
        )
        .refine((pairs) => new Set(pairs.map(([service]) => service)).size === pairs.length, 'a service is named twice'),
    )
    .transform((pairs) => Object.fromEntries(pairs) as Record<string, string>),
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
  FLEETCAST_PERMISSIONS: 'JSON file of API tokens and their scopes, and of who may do what from Slack (default: only the generated <data dir>/api-token; the bot refuses every change)',
  FLEETCAST_API_URL: 'coordinator URL for client commands (default: <data dir>/up.json, else http://127.0.0.1:7070)',
  FLEETCAST_API_TOKEN: 'API token for client commands (default: <data dir>/up.json, else <data dir>/api-token)',
  FLEETCAST_BLOBSTORE: 'fs, gcs or s3 (default fs: <data dir>/buckets/<bucket>/)',
  FLEETCAST_BUCKET_PREFIX: 'buckets are <prefix>-main and <prefix>-<region> (default fleetcast)',
  FLEETCAST_GCS_ENDPOINT: "GCS JSON API address (default STORAGE_EMULATOR_HOST, else Google's)",
  FLEETCAST_GCS_PROJECT: 'GCS project, to create buckets (default the client library\'s)',
  FLEETCAST_S3_ENDPOINT: "S3 API address of an S3-compatible server, e.g. http://minio:9000 (default AWS's for the region); credentials come from the AWS chain (AWS_ACCESS_KEY_ID…, AWS_PROFILE, roles)",
  FLEETCAST_S3_REGION: "the buckets' region, e.g. eu-west-1, auto for R2 (default AWS_REGION or the profile's; us-east-1 with FLEETCAST_S3_ENDPOINT)",
  FLEETCAST_S3_FORCE_PATH_STYLE: 'true: address buckets as <endpoint>/<bucket>/ (MinIO, Ceph, most local servers) (default false: <bucket>.<endpoint>)',
  FLEETCAST_S3_PART_SIZE: 'part size of multipart uploads, 5M to 5G; an upload holds about 5 parts in memory (default 8M)',
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
  FLEETCAST_REGION: 'the region this agent or seeder serves (default local)',
  FLEETCAST_MACHINE: 'this machine\'s id in status reports, letters, digits, _ and - (default the host name)',
  FLEETCAST_AGENT_DIR: 'where the agent keeps services/<service>/builds/<build>/ and current (default <data dir>/agents/<region>-<machine>)',
  FLEETCAST_AGENT_SERVICES: 'comma-separated services this agent runs (default: every service with a goal in its region)',
  FLEETCAST_AGENT_CACHE_BUILDS: 'verified builds kept per service, the running one included, for rollbacks without transfer (default 3)',
  FLEETCAST_AGENT_MIN_FREE_DISK: 'cached builds are removed while free disk is below this, e.g. 1G (default 1G)',
  FLEETCAST_AGENT_HEALTH_GRACE: 'a new build\'s process must stay up this long after the switch (default 10s)',
  FLEETCAST_AGENT_HEALTH_TIMEOUT: 'a new build\'s health URL must answer 2xx within this long of the switch (default 60s)',
  FLEETCAST_AGENT_BUCKET_FALLBACK: 'read from the regional bucket when no peer served data for this long (default 30s)',
  FLEETCAST_AGENT_SEEDER_WAIT: "read from the regional bucket when no peer holding the build was met for this long: the region's seeders need about a minute per 10 GiB to prepare a build (default 5m, never less than FLEETCAST_AGENT_BUCKET_FALLBACK)",
  FLEETCAST_AGENT_BUCKET_RATE: 'bytes per second read from the regional bucket, e.g. 50M; 0 = unlimited (default 100M)',
  FLEETCAST_AGENT_LOG_MAX: "size of one file of a supervised service's output, services/<service>/logs/<build>.log; full, it becomes .log.1 and older ones move down (default 10M; also each role's log under fleetcast up). With FLEETCAST_AGENT_RUN_HOOK the service's output is its system's (journald)",
  FLEETCAST_AGENT_LOG_KEEP: 'log files kept per service build, the one being written included: at most KEEP x MAX on disk (default 5; also for fleetcast up)',
  FLEETCAST_AGENT_P2P: 'true: fetch builds from the region\'s peers, the bucket behind them (default); false: from the regional bucket only',
  FLEETCAST_AGENT_STOP_SERVICES: 'true: stop the services when the agent stops (fleetcast up does); default false: they keep running and the next agent adopts them',
  FLEETCAST_AGENT_RUN_HOOK: 'command run to switch a service instead of supervising its run command, e.g. systemctl restart app (default: supervise)',
  FLEETCAST_SLACK_SIGNING_SECRET: "Slack app's signing secret; HTTP mode verifies every request with it (prefer the variable: flags show in ps)",
  FLEETCAST_SLACK_BOT_TOKEN: 'Slack bot token xoxb-… (prefer the variable: flags show in ps)',
  FLEETCAST_SLACK_APP_TOKEN: 'Slack app-level token xapp-…; set, the bot runs in Socket Mode instead of HTTP (prefer the variable)',
  FLEETCAST_SLACK_API_URL: 'Slack Web API base URL (default https://slack.com/api/)',
  FLEETCAST_BOT_LISTEN: 'host:port the bot listens on for Slack requests at /slack/events, HTTP mode (default 127.0.0.1:3000)',
  FLEETCAST_SLACK_CHANNELS: 'where finished builds and deploys are announced: api=C0123,*=C0456 (default: no announcements)',
  FLEETCAST_DEPLOY_WAVES: 'how deploys roll out: canary (first region, then the rest once converged), all, or waves like eu;us,ap (default canary)',
  FLEETCAST_DEPLOY_PREFETCH: "true: with a deploy's first wave, the later waves' machines fetch the build into their caches (nothing runs until their wave), so each later wave switches without a transfer; false: they fetch when their wave comes (default true)",
  FLEETCAST_WAVE_MAX_FAILED: 'failed machines a wave tolerates, as a fraction of its machines, before the rollout halts (default 0)',
  FLEETCAST_WAVE_MIN_DONE: "share of a wave's live machines that must run the build (or have failed within FLEETCAST_WAVE_MAX_FAILED) before the next wave is written; e.g. 0.99 keeps a few stragglers from holding the fleet (default 1)",
  FLEETCAST_WAVE_TIMEOUT: 'a wave not converged this long after its goals were written fails the rollout (default 30m)',
  FLEETCAST_WAVE_SOAK: 'wait this long after a wave converged before writing the next (default 0s)',
  FLEETCAST_SECRET: 'cluster secret the P2P keys derive from; the same on every coordinator and seeder (default: <data dir>/secret, generated; prefer the variable: flags show in ps)',
  FLEETCAST_DHT_BOOTSTRAP: `comma-separated host:port of the DHT nodes P2P peers meet through, e.g. those of fleetcast dht (default ${defaultDhtAddress})`,
  FLEETCAST_P2P_UPLOAD_LIMIT: 'bytes per second this machine uploads to its P2P peers, all together, e.g. 80M (default: no limit)',
  FLEETCAST_P2P_DOWNLOAD_LIMIT: 'bytes per second this machine downloads from its P2P peers, all together, e.g. 200M (default: no limit)',
  FLEETCAST_P2P_MAX_PEERS: 'P2P connections this machine keeps at most (default 64)',
  FLEETCAST_SEEDER_DIR: "where a seeder keeps its cores, about one artifact's size each (default <data dir>/seeder/<region>)",
  FLEETCAST_SEEDER_PREHEAT: 'newest builds per service in the regional bucket a seeder prepares before they are deployed; 0: goals only (default 2)',
  FLEETCAST_SEEDER_SCAN_EVERY: 'how often a seeder lists the regional bucket for builds to preheat (default 30s)',
};
