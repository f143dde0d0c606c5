import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { byteSize } from './byte-size.ts';
import { durationMs, durationOrZeroMs } from './duration.ts';

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
function listenSetting() {
  return z
    .string()
    .trim()
    .refine((text) => listenAddress.test(text) && Number(listenAddress.exec(text)![2]) <= 65_535, 'must be host:port, e.g. 127.0.0.1:7070 or [::1]:7070')
    .transform((text) => {
      const [, host, port] = listenAddress.exec(text)!;
      return { host: host!.replace(/^\[|\]$/g, ''), port: Number(port) };
    });
}

/** One setting: how its text is checked and parsed, what it is used for, what it is when unset. */
export interface SettingDefinition<S extends z.ZodType = z.ZodType> {
  /** Checks and parses the variable's text (or the default's). */
  schema: S;
  /**
   * The value when the variable and its flag are unset, written as a person would set it
   * (`5s`, `2G`, `canary`) and parsed like one. The one place each default is written: `--help`
   * and the README's settings tables are generated from it.
   */
  default?: string;
  /** How the default reads in `--help` and the README (markdown), where it is not `default` itself. */
  shown?: string;
  /** One line for `--help`, without the default (added from `default`/`shown`). */
  help: string;
}

function setting<S extends z.ZodType>(schema: S, doc: Omit<SettingDefinition<S>, 'schema'>): SettingDefinition<S> {
  return { schema, ...doc };
}

/** Slack ids: users U…/W…, user groups S…, channels C…/G…/D… (upper-case letters and digits). */
const slackChannelId = /^[CGD][A-Z0-9]{2,30}$/;

/**
 * Every setting fleetcast reads, by environment variable. Each is also a flag of the role that
 * uses it (`FLEETCAST_DATABASE_URL` ↔ `--database-url`). Defaults are those of DESIGN.md; each is
 * written here once, and `--help` (settingHelp) and the README's tables (settingDefaultText, npm
 * run docs:settings) are generated from it.
 */
export const settings = {
  FLEETCAST_DATA_DIR: setting(
    z.string().min(1),
    { default: path.join(os.homedir(), '.fleetcast'), shown: '`~/.fleetcast`', help: 'where this installation keeps its state' },
  ),
  FLEETCAST_DATABASE_URL: setting(
    z
      .string()
      .regex(/^mysql:\/\/[^/]+\/[A-Za-z0-9_$-]+(\?.*)?$/, 'must look like mysql://user:pass@host:port/db')
      .optional(),
    {
      shown: 'SQLite file `<data dir>/fleetcast.sqlite`',
      // Several hosts: a primary and its replicas; the writable one is used, and found again after a failover.
      help: 'mysql://user:pass@host:port/db, or host1:port,host2:port for a primary and its replicas (the writable one is used)',
    },
  ),
  FLEETCAST_REGIONS: setting(
    z
      .string()
      .transform((text) => text.split(',').map((region) => region.trim()).filter(Boolean))
      .pipe(
        z
          .array(z.string().regex(regionName, 'region names are lower-case letters, digits and dashes'))
          .min(1, 'name at least one region')
          .refine((regions) => new Set(regions).size === regions.length, 'a region is named twice'),
      ),
    { default: 'local', help: 'comma-separated region names' },
  ),
  FLEETCAST_LOG_LEVEL: setting(
    z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
    { default: 'info', help: 'trace|debug|info|warn|error|fatal|silent' },
  ),
  /** How often a worker proves it is alive while it holds a claim. */
  FLEETCAST_HEARTBEAT_INTERVAL: setting(durationMs, { default: '5s', help: 'how often a worker heartbeats its build' }),
  /** A claim whose last heartbeat is older than this is taken back by the reaper. */
  FLEETCAST_HEARTBEAT_TIMEOUT: setting(
    durationMs,
    { default: '30s', help: 'a build without a heartbeat this long is taken back' },
  ),
  /** Where build commands run: bubblewrap (the checkout, system folders read-only, nothing of the worker's), or directly. */
  FLEETCAST_BUILD_SANDBOX: setting(
    z.enum(['bwrap', 'none']),
    {
      default: 'bwrap',
      help: 'bwrap: builds run in a bubblewrap sandbox that sees only the checkout, a fresh home and /tmp, and read-only system folders; none: directly (only with the worker as a dedicated unprivileged user, docs/operations.md). Either way a build gets only FLEETCAST_* and its service\'s build settings as environment. The coordinator runs pre-deploy check commands in the same sandbox',
    },
  ),
  /** Local repositories (paths, file://) for tests and `fleetcast up`; production builds from https/ssh only. */
  FLEETCAST_GIT_ALLOW_FILE: setting(
    z.enum(['true', 'false']).transform((text) => text === 'true'),
    { default: 'false', help: "true: workers also build from local repositories (paths, file://), and the coordinator's commit mirror (previews) reads them, as fleetcast up does; false: https and ssh only" },
  ),
  /** A build running longer than this is failed as timed out. */
  FLEETCAST_BUILD_TIMEOUT: setting(durationMs, { default: '15m', help: 'a build running longer fails as timed out' }),
  /** Claims of one build before a lost worker fails it for good. */
  FLEETCAST_MAX_ATTEMPTS: setting(
    z.coerce.number().int().min(1).max(100),
    { default: '3', help: 'claims of a build before lost workers fail it' },
  ),
  /** How often the reaper looks for stale claims. */
  FLEETCAST_REAPER_INTERVAL: setting(durationMs, { default: '5s', help: 'time between reaper sweeps' }),
  /** Where the coordinator's HTTP API listens (and, for `fleetcast dht`, the DHT node's UDP socket). */
  FLEETCAST_LISTEN: setting(
    listenSetting(),
    { default: '127.0.0.1:7070', help: `host:port this role listens on: the coordinator's HTTP API, a DHT node's UDP socket (fleetcast dht: default ${defaultDhtAddress}); port 0: any free port` },
  ),
  /** HMAC secret of the git push webhook; without it POST /v1/hooks/git is off. */
  FLEETCAST_WEBHOOK_SECRET: setting(
    z.string().min(16, 'use at least 16 characters, e.g. the output of: openssl rand -hex 32').optional(),
    { shown: '— (webhook off: 404)', help: 'HMAC secret of the git push webhook POST /v1/hooks/git; prefer the variable, flags show in ps' },
  ),
  /** The most of a webhook body the coordinator reads before it checks the signature: more is refused unread (413). */
  FLEETCAST_WEBHOOK_MAX_BODY: setting(
    byteSize.refine((bytes) => bytes >= 1024, 'must be at least 1K'),
    { default: '1M', help: 'most bytes of a push webhook body read before its signature is checked; larger posts are refused (413). GitHub caps payloads at 25 MB; a push of many commits can pass 1 MB' },
  ),
  /** How long a dashboard sign-in lasts without use: the session cookie's lifetime, renewed by each request. */
  FLEETCAST_DASHBOARD_SESSION_TTL: setting(durationMs, {
    default: '12h',
    help: 'how long a dashboard sign-in (session cookie) lasts without use; sessions live in the coordinator\'s memory, so a restart signs everyone out',
  }),
  /** JSON file of API tokens and their scopes, and the Slack users and groups allowed to change things (README, "Permissions file"). */
  FLEETCAST_PERMISSIONS: setting(
    z.string().min(1).optional(),
    { shown: '— (only the generated admin token; the bot refuses every change)', help: 'JSON file of API tokens and their scopes, and of who may do what from Slack' },
  ),
  /** Where clients (CLI, bot) find the coordinator. */
  FLEETCAST_API_URL: setting(
    z
      .string()
      .trim()
      .regex(/^https?:\/\/[^/\s]+(\/\S*)?$/, 'must be an http(s) URL such as http://127.0.0.1:7070')
      .transform((url) => url.replace(/\/+$/, ''))
      .optional(),
    { shown: "`<data dir>/up.json`'s `apiUrl`, else `http://127.0.0.1:7070`", help: 'coordinator URL for client commands' },
  ),
  /** The bearer token clients send to the coordinator. */
  FLEETCAST_API_TOKEN: setting(
    z.string().trim().min(1).optional(),
    { shown: "`<data dir>/up.json`'s `token`, else `<data dir>/api-token` (for a coordinator on this machine only)", help: 'API token for client commands' },
  ),
  /** The CA clients trust for an https:// coordinator URL (a private CA's certificate; PEM). */
  FLEETCAST_API_CA: setting(
    z.string().trim().min(1).optional(),
    {
      shown: "the system CAs (`up.json`'s `ca` when the URL comes from up.json)",
      help: "PEM file of the CA that signed the coordinator's certificate, for an https:// FLEETCAST_API_URL (CLI, bot, demo)",
    },
  ),
  /** This role's HTTP listener certificate: the coordinator's API (and /v1/events), the bot's /slack/events. */
  FLEETCAST_TLS_CERT: setting(
    z.string().trim().min(1).optional(),
    {
      shown: '— (plain HTTP; `fleetcast up`: `<dir>/tls/api.crt`)',
      help: "PEM certificate (chain) this role's HTTP listener serves over TLS: the coordinator's API and /v1/events, the bot's /slack/events; re-read when it changes",
    },
  ),
  /** The private key of FLEETCAST_TLS_CERT. */
  FLEETCAST_TLS_KEY: setting(
    z.string().trim().min(1).optional(),
    {
      shown: '— (plain HTTP; `fleetcast up`: `<dir>/tls/api.key`)',
      help: 'PEM private key of FLEETCAST_TLS_CERT (mode 0600); set both or neither',
    },
  ),
  FLEETCAST_BLOBSTORE: setting(
    z.enum(['fs', 'gcs', 's3']),
    { default: 'fs', shown: '`fs` (`<data dir>/buckets/<bucket>/`)', help: 'fs, gcs or s3' },
  ),
  FLEETCAST_BUCKET_PREFIX: setting(
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes, starting with a letter or digit'),
    { default: 'fleetcast', help: 'buckets are <prefix>-main and <prefix>-<region>' },
  ),
  /** The GCS JSON API's address; unset means STORAGE_EMULATOR_HOST, else Google's. */
  FLEETCAST_GCS_ENDPOINT: setting(
    z.url().optional(),
    { shown: "`STORAGE_EMULATOR_HOST`, else Google's", help: 'GCS JSON API address' },
  ),
  FLEETCAST_GCS_PROJECT: setting(
    z.string().min(1).optional(),
    { shown: "the client's project", help: 'GCS project, to create buckets' },
  ),
  /** The S3 API's address for S3-compatible servers (MinIO, Ceph, R2); unset means AWS's for the region. */
  FLEETCAST_S3_ENDPOINT: setting(
    z.url().optional(),
    { shown: "AWS's for the region", help: 'S3 API address of an S3-compatible server, e.g. http://minio:9000; credentials come from the AWS chain (AWS_ACCESS_KEY_ID…, AWS_PROFILE, roles)' },
  ),
  /** The buckets' region; unset means the SDK's (AWS_REGION, the profile), or us-east-1 with an endpoint. */
  FLEETCAST_S3_REGION: setting(
    z.string().trim().regex(/^[a-z0-9-]+$/, 'a region name such as eu-west-1 (auto for R2)').optional(),
    { shown: "`AWS_REGION` or the profile's; `us-east-1` with an endpoint", help: "the buckets' region, e.g. eu-west-1, auto for R2" },
  ),
  /** `<endpoint>/<bucket>/key` instead of `<bucket>.<endpoint>/key`: most S3-compatible servers need it. */
  FLEETCAST_S3_FORCE_PATH_STYLE: setting(
    z.enum(['true', 'false']).transform((text) => text === 'true'),
    { default: 'false', help: 'true: address buckets as <endpoint>/<bucket>/ (MinIO, Ceph, most local servers); false: <bucket>.<endpoint>' },
  ),
  /** Part size of multipart uploads (parts double every 2,000): memory of an upload is about 5 parts. */
  FLEETCAST_S3_PART_SIZE: setting(
    byteSize.refine((bytes) => bytes >= 5 * 1024 ** 2 && bytes <= 5 * 1024 ** 3, "S3's parts are 5M to 5G"),
    { default: '8M', help: 'part size of multipart uploads, 5M to 5G; an upload holds about 5 parts in memory' },
  ),
  /** Names a builder in claims and logs. */
  FLEETCAST_WORKER_ID: setting(
    z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,200}$/, 'letters, digits, ".", "_" and "-"'),
    { default: `${os.hostname()}-${process.pid}`, shown: '`<hostname>-<pid>`', help: "this builder's name in claims and logs" },
  ),
  /** Builds one worker process runs at once. */
  FLEETCAST_WORKER_CONCURRENCY: setting(
    z.coerce.number().int().min(1).max(64),
    { default: '1', help: 'builds one worker process runs at once' },
  ),
  /** Copies into each region one replicator runs at once; 0: this coordinator runs no replicator. */
  FLEETCAST_REPLICATION_CONCURRENCY: setting(
    z.coerce.number().int().min(0).max(64),
    { default: '2', help: 'copies into each region a replicator runs at once; 0 = no replicator in the coordinator' },
  ),
  /** Tries of one copy before it is FAILED. */
  FLEETCAST_REPLICATION_ATTEMPTS: setting(
    z.coerce.number().int().min(1).max(100),
    { default: '5', help: 'tries of one copy before it is FAILED' },
  ),
  /** Each regional copy is read back and re-hashed this often. */
  FLEETCAST_AUDIT_EVERY: setting(durationMs, { default: '1d', help: 'how often each regional copy is read back and re-hashed' }),
  /** Newest builds per service whose regional copies retention keeps. */
  FLEETCAST_RETENTION_KEEP: setting(
    z.coerce.number().int().min(1),
    { default: '20', help: 'newest builds per service kept in regional buckets' },
  ),
  /** A builder refuses to start a build with less free disk than this in its work folder. */
  FLEETCAST_MIN_FREE_DISK: setting(byteSize, { default: '2G', help: 'free disk a builder needs to start a build, e.g. 2G' }),
  /** The NATS hub (coordinator) or the region's leaf (seeders, agents); may carry user:password@. */
  FLEETCAST_NATS_URL: setting(
    z
      .string()
      .trim()
      .refine(
        (text) => text.split(',').every((url) => natsUrl.test(url.trim())),
        'must be nats://[user:password@]host:port (several separated by commas)',
      ),
    { default: 'nats://127.0.0.1:4222', help: "nats://[user:password@]host:port of the NATS hub (coordinator) or of the region's leaf (seeders, agents)" },
  ),
  /** This process's own NATS identity: the creds file `fleetcast creds issue` wrote (an nkey seed, mode 0600). */
  FLEETCAST_NATS_CREDS: setting(
    z.string().trim().min(1).optional(),
    {
      shown: '— (the user:password of FLEETCAST_NATS_URL, if any; `fleetcast up`: `<dir>/nats-identities/creds/<role>-<region>-<machine>.nk`)',
      help: "creds file of this process's own NATS identity (fleetcast creds issue): the coordinator's on the hub, a seeder's or agent's on its region's leaf",
    },
  ),
  /** The CA of the NATS servers' certificates: connections are TLS and checked against it. */
  FLEETCAST_NATS_CA: setting(
    z.string().trim().min(1).optional(),
    {
      shown: '— (a `tls://` URL uses the system CAs; `fleetcast up`: `<dir>/tls/ca.crt`)',
      help: "PEM file of the CA that signed the NATS servers' certificates: the connection is TLS, checked against it",
    },
  ),
  /** Copies of the goal bucket (hub) and of each region's mirror and status bucket (its leaf servers). */
  FLEETCAST_NATS_REPLICAS: setting(
    z.coerce.number().int().min(1).max(5),
    { default: '1', help: "copies of the goal bucket on the hub and of each region's goal mirror and status bucket: 3 when the hub and every region are 3-server NATS clusters (fleetcast up --ha), at most the servers of the smallest cluster" },
  ),
  /** Goals kept per service and region in the global `goal` bucket (rollback without SQL). */
  FLEETCAST_GOAL_HISTORY: setting(
    z.coerce.number().int().min(2).max(64),
    { default: '20', help: 'goals kept per service and region in the goal bucket, for rollback, at most 64' },
  ),
  /** The coordinator's Ed25519 private key (PEM file) it signs every goal and prefetch hint with; only coordinators hold it. */
  FLEETCAST_GOAL_SIGNING_KEY: setting(
    z.string().trim().min(1).optional(),
    {
      shown: '— (deploys and rollbacks refuse with CONFIG_INVALID; `fleetcast up`: `<dir>/goal-signing.key`)',
      help: 'file of the Ed25519 private key the coordinator signs goals with (PEM, mode 0600; re-read when it changes)',
    },
  ),
  /** The goal-signing public keys a reader trusts: agents and seeders apply only what one of them signed. */
  FLEETCAST_GOAL_PUBLIC_KEYS: setting(
    z.string().trim().min(1).optional(),
    {
      shown: '— (required by agents and seeders; `fleetcast up`: `<dir>/goal-signing.pub`)',
      help: 'goal-signing public keys to trust: ed25519:… keys or files of them, comma-separated (files re-read when they change: rotation without restart)',
    },
  ),
  /** How often the coordinator checks each region's goal mirror (configuration, lag, content against the hub). */
  FLEETCAST_MIRROR_CHECK_EVERY: setting(durationMs, { default: '15s', help: "how often the coordinator checks each region's goal mirror against the hub, and repairs it" }),
  /** How often an agent re-reports an unchanged state, so the coordinator can tell it is alive. */
  FLEETCAST_STATUS_INTERVAL: setting(durationMs, { default: '30s', help: 'how often an agent re-reports an unchanged state' }),
  /** A machine whose last report is older than this counts as silent. */
  FLEETCAST_STATUS_SILENT_AFTER: setting(
    durationMs,
    { default: '90s', help: 'a machine without a report for this long counts as silent' },
  ),
  /** The one region an agent (or seeder) belongs to: it watches goal-<region> on that region's leaf and reads <prefix>-<region>. */
  FLEETCAST_REGION: setting(
    z
      .string()
      .trim()
      .refine((text) => regionName.test(text) && text !== 'hub', 'a region name: lower-case letters, digits and dashes, not "hub"'),
    { default: 'local', help: 'the region this agent or seeder serves' },
  ),
  /** This machine's id in status reports and the default agent dir; one NATS subject token (no dots). */
  FLEETCAST_MACHINE: setting(
    z
      .string()
      .trim()
      .refine((text) => /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/.test(text), 'letters, digits, "_" and "-", starting with a letter or digit (no dots; at most 128)'),
    { default: os.hostname().replace(/[^A-Za-z0-9_-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 128) || 'machine', shown: 'the host name', help: "this machine's id in status reports, letters, digits, _ and -" },
  ),
  /** Where an agent keeps its builds; unset: `<data dir>/agents/<region>-<machine>`. */
  FLEETCAST_AGENT_DIR: setting(
    z.string().min(1).optional(),
    { shown: '`<data dir>/agents/<region>-<machine>`', help: 'where the agent keeps services/<service>/builds/<build>/ and current' },
  ),
  /** Services this agent runs, comma-separated; unset or empty: every service with a goal in its region. */
  FLEETCAST_AGENT_SERVICES: setting(
    z
      .string()
      .optional()
      .transform((text) => {
        const services = (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        return services.length > 0 ? services : undefined;
      })
      .pipe(z.array(z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'service names are a lower-case letter, then lower-case letters, digits and dashes')).optional()),
    { shown: 'every service with a goal in its region', help: 'comma-separated services this agent runs' },
  ),
  /** Verified builds kept per service (the running one included), so a rollback to one of them needs no transfer. */
  FLEETCAST_AGENT_CACHE_BUILDS: setting(
    z.coerce.number().int().min(1).max(100),
    { default: '3', help: 'verified builds kept per service, the running one included, for rollbacks without transfer' },
  ),
  /** Cached builds (never the running or goal one) are removed while free disk in the agent dir is below this. */
  FLEETCAST_AGENT_MIN_FREE_DISK: setting(
    byteSize,
    { default: '1G', help: 'cached builds are removed while free disk is below this, e.g. 1G' },
  ),
  /** After a switch, the new build's process must stay up this long to count as healthy. */
  FLEETCAST_AGENT_HEALTH_GRACE: setting(
    durationMs,
    { default: '10s', help: "a new build's process must stay up this long after the switch" },
  ),
  /** After a switch, the goal's health URL must answer 2xx within this long. */
  FLEETCAST_AGENT_HEALTH_TIMEOUT: setting(
    durationMs,
    { default: '60s', help: "a new build's health URL must answer 2xx within this long of the switch" },
  ),
  /** Without a byte from any peer for this long, the agent reads the build from the regional bucket instead. */
  FLEETCAST_AGENT_BUCKET_FALLBACK: setting(
    durationMs,
    { default: '30s', help: 'read from the regional bucket when no peer served data for this long' },
  ),
  /**
   * How long a fetch waits to meet a first peer holding the build before reading the bucket: the
   * region's seeders make the build's core once it reaches the regional bucket (about a minute per
   * 10 GiB); falling back after 30 s would send the whole region to the bucket (bench/sim).
   */
  FLEETCAST_AGENT_SEEDER_WAIT: setting(
    durationMs,
    { default: '5m', help: "read from the regional bucket when no peer holding the build was met for this long: the region's seeders need about a minute per 10 GiB to prepare a build; never less than FLEETCAST_AGENT_BUCKET_FALLBACK" },
  ),
  /** Bytes per second an agent reads from the regional bucket (`50M`); `0`: unlimited. */
  FLEETCAST_AGENT_BUCKET_RATE: setting(
    byteSize,
    { default: '100M', help: 'bytes per second read from the regional bucket, e.g. 50M; 0 = unlimited' },
  ),
  /** A command the agent runs to switch a service (e.g. `systemctl restart app@$FLEETCAST_BUILD_ID`) instead of supervising its run command. */
  FLEETCAST_AGENT_RUN_HOOK: setting(
    z.string().trim().min(1).max(4000).optional(),
    { shown: '— (supervise)', help: 'command run to switch a service instead of supervising its run command, e.g. systemctl restart app' },
  ),
  /** A service's output is kept in files of this size (and `fleetcast up` keeps each role's log so). */
  FLEETCAST_AGENT_LOG_MAX: setting(
    byteSize.refine((bytes) => bytes >= 1024, 'at least 1K'),
    { default: '10M', help: "size of one file of a supervised service's output (services/<service>/logs/<build>.log); full, it becomes .log.1 and older ones move down; also each role's log under fleetcast up. With FLEETCAST_AGENT_RUN_HOOK the service's output is its system's (journald)" },
  ),
  /** Log files kept per service build (and per `fleetcast up` role), the one being written included. */
  FLEETCAST_AGENT_LOG_KEEP: setting(
    z.coerce.number().int().min(1).max(100),
    { default: '5', help: 'log files kept per service build, the one being written included: at most KEEP x MAX on disk; also for fleetcast up' },
  ),
  /** Fetch from the region's peers (P2P, the bucket behind them); false: from the regional bucket only. */
  FLEETCAST_AGENT_P2P: setting(
    z.enum(['true', 'false']).transform((text) => text === 'true'),
    { default: 'true', help: "true: fetch builds from the region's peers, the bucket behind them; false: from the regional bucket only" },
  ),
  /** Stop the services too when the agent stops (fleetcast up); by default they outlive it, so an agent upgrade is no outage. */
  FLEETCAST_AGENT_STOP_SERVICES: setting(
    z.enum(['true', 'false']).transform((text) => text === 'true'),
    { default: 'false', help: 'true: stop the services when the agent stops (fleetcast up does); false: they keep running and the next agent adopts them' },
  ),
  /** The unprivileged user (name or uid) an agent running as root runs its services' run commands as. */
  FLEETCAST_SERVICE_USER: setting(
    z
      .string()
      .trim()
      .refine((text) => /^([A-Za-z_][A-Za-z0-9_.-]*\$?|\d+)$/.test(text), 'a user name or a uid, e.g. fleetcast-svc')
      .optional(),
    { shown: "— (the agent's user)", help: "user (name or uid) services' run commands run as, so they cannot read the agent's credentials; needs an agent running as root, which warns while it is unset" },
  ),
  /** How a deploy rolls out: `canary` (first region, then the rest), `all`, or waves such as `eu;us,ap` or `eu:1%;eu;us,ap` (a share of a region first). */
  FLEETCAST_DEPLOY_WAVES: setting(
    z
      .string()
      .trim()
      .refine(
        (text) => text === 'canary' || text === 'all' || text.split(';').every((wave) => wave.split(',').every((target) => /^[a-z0-9-]+(:\d{1,2}(\.\d{1,2})?%)?$/.test(target))),
        'write canary, all, or waves of regions such as eu;us,ap or eu:1%;eu;us,ap',
      ),
    { default: 'canary', help: "how deploys roll out (a service's own plan, fleetcast service add --waves, wins): canary (first region, then the rest once converged), all, or waves like eu;us,ap — a wave may take a share of a region first, eu:1%;eu;us,ap (the same machines every time: a hash of machine id and service)" },
  ),
  /** With the first wave, the later waves' regions fetch the build into their agents' caches (run nothing). */
  FLEETCAST_DEPLOY_PREFETCH: setting(
    z.enum(['true', 'false']).transform((text) => text === 'true'),
    { default: 'true', help: "true: with a deploy's first wave, the later waves' machines fetch the build into their caches (nothing runs until their wave), so each later wave switches without a transfer; false: they fetch when their wave comes" },
  ),
  /** When a wave fails, put the regions the deployment wrote back on the build they ran before (from the agents' caches) and lock the service. */
  FLEETCAST_DEPLOY_AUTO_ROLLBACK: setting(
    z.enum(['true', 'false']).transform((text) => text === 'true'),
    { default: 'true', help: "true: when a wave fails, the regions the deployment wrote go back to the build they ran before (no transfer: the agents' caches hold it) and the service is locked with the reason; false: the deployment stops FAILED and someone must roll back. A service's own setting (fleetcast service add --auto-rollback on|off) wins" },
  ),
  /** Failed machines a wave tolerates before the rollout halts, as a fraction of its machines (0.01 = 1 %). */
  FLEETCAST_WAVE_MAX_FAILED: setting(
    z.coerce.number().min(0).max(1),
    { default: '0', help: 'failed machines a wave tolerates, as a fraction of its machines, before the rollout halts' },
  ),
  /** Share of a wave's live machines done with the build (running, or failed within the tolerance) before the next wave is written. */
  FLEETCAST_WAVE_MIN_DONE: setting(
    z.coerce.number().gt(0, 'a share above 0, at most 1 (e.g. 0.99)').max(1, 'a share above 0, at most 1 (e.g. 0.99)'),
    { default: '1', help: "share of a wave's live machines that must run the build (or have failed within FLEETCAST_WAVE_MAX_FAILED) before the next wave is written; e.g. 0.99 keeps a few stragglers from holding the fleet" },
  ),
  /** A wave whose machines have not converged this long after its goals were written fails. */
  FLEETCAST_WAVE_TIMEOUT: setting(
    durationMs,
    { default: '30m', help: 'a wave not converged this long after its goals were written fails the rollout' },
  ),
  /** How often the coordinator looks for builds to deploy continuously (services with continuous deploy on). */
  FLEETCAST_CD_INTERVAL: setting(
    durationMs,
    { default: '10s', help: 'how often continuous deploy looks for a newer SUCCEEDED, deployable build of each opted-in service (and for a freeze that ended)' },
  ),
  /** A pre-deploy check (command or URL) without its own timeout fails after this long. */
  FLEETCAST_CHECK_TIMEOUT: setting(
    durationMs,
    { default: '60s', help: 'a pre-deploy check (command or URL) that has not passed this long after it started fails the deploy (CHECK_FAILED)' },
  ),
  /** Wait this long after a wave converged before writing the next. */
  FLEETCAST_WAVE_SOAK: setting(
    durationOrZeroMs,
    { default: '0s', help: 'wait this long after a wave converged before writing the next' },
  ),
  /** Prometheus' base URL: set, services' metric gates are checked during each wave's soak; unset, the gate is the agents' health alone. */
  FLEETCAST_PROMETHEUS_URL: setting(
    z.url({ protocol: /^https?$/, error: 'the Prometheus URL must be an http(s) URL such as http://prometheus:9090' }).optional(),
    { shown: '— (no metric gates)', help: "Prometheus base URL (http://host:9090): services' metric gates (service add --gate-query) are checked during each wave's soak; unset, waves are gated on the agents' health only" },
  ),
  /** How often a wave's metric gate is queried while it holds. */
  FLEETCAST_PROMETHEUS_EVERY: setting(
    durationMs,
    { default: '10s', help: "how often the coordinator queries Prometheus for a wave's metric gate while it holds" },
  ),
  /** How long a metric gate may go without an answer (Prometheus unreachable or erring, or no data) before its wave fails. */
  FLEETCAST_PROMETHEUS_GRACE: setting(
    durationMs,
    { default: '2m', help: "a metric gate that gets no value (Prometheus unreachable, an error, or no data for the query) this long fails its wave: the gate fails closed" },
  ),
  /** How long a coordinator's lease of a rollout (or of a service's goal writes) lasts unrenewed: another coordinator takes over a dead one's rollouts after this. */
  FLEETCAST_ROLLOUT_LEASE: setting(
    durationMs,
    { default: '10s', help: "with several coordinators on one database: one steps each rollout and renews its lease every round; another takes over once a dead one's lease has run out this long" },
  ),
  /** The cluster secret (P2P key pairs); unset: `<data dir>/secret`, generated on first use. */
  FLEETCAST_SECRET: setting(
    z.string().trim().min(32, 'use at least 32 characters, e.g. the output of: openssl rand -hex 32').optional(),
    { shown: '`<data dir>/secret`, generated (mode 0600)', help: 'cluster secret the P2P keys derive from; the same on every coordinator and seeder; prefer the variable, flags show in ps' },
  ),
  /** The Slack app's signing secret: the bot verifies every HTTP request with it (HTTP mode). */
  FLEETCAST_SLACK_SIGNING_SECRET: setting(
    z.string().trim().min(16, "the app's Signing Secret (Basic Information → App Credentials), at least 16 characters").optional(),
    { shown: '— (required unless Socket Mode)', help: "Slack app's signing secret; HTTP mode verifies every request with it; prefer the variable, flags show in ps" },
  ),
  /** The bot user's OAuth token (xoxb-…): the bot posts and updates messages with it. */
  FLEETCAST_SLACK_BOT_TOKEN: setting(
    z.string().trim().regex(/^xoxb-\S+$/, 'a bot token starts with xoxb- (OAuth & Permissions → Bot User OAuth Token)').optional(),
    { shown: '— (required)', help: 'Slack bot token xoxb-…; prefer the variable, flags show in ps' },
  ),
  /** An app-level token (xapp-…, scope connections:write): set, the bot runs in Socket Mode. */
  FLEETCAST_SLACK_APP_TOKEN: setting(
    z.string().trim().regex(/^xapp-\S+$/, 'an app-level token starts with xapp- (Basic Information → App-Level Tokens, scope connections:write)').optional(),
    { shown: '— (HTTP mode)', help: 'Slack app-level token xapp-…; set, the bot runs in Socket Mode instead of HTTP; prefer the variable' },
  ),
  /** The Slack Web API base URL; tests point it at a local server. */
  /** Set: the coordinator sends commit statuses and deployments to GitHub for services whose repository is there. */
  FLEETCAST_GITHUB_TOKEN: setting(
    z.string().trim().min(20, 'a GitHub token (ghp_…, github_pat_… or an installation token) is at least 20 characters').optional(),
    { shown: '— (GitHub is not told)', help: 'GitHub token with commit statuses and deployments write access; set, builds and deploys are reported to GitHub' },
  ),
  /** A GitHub App instead of a token: its id, its installation on the services' organisation, and its private key file. */
  FLEETCAST_GITHUB_APP_ID: setting(z.coerce.number().int().min(1).optional(), { shown: '— (use FLEETCAST_GITHUB_TOKEN)', help: 'GitHub App id; with FLEETCAST_GITHUB_APP_INSTALLATION and FLEETCAST_GITHUB_APP_KEY instead of a token' }),
  FLEETCAST_GITHUB_APP_INSTALLATION: setting(z.coerce.number().int().min(1).optional(), { shown: '—', help: "the GitHub App's installation id (on the organisation or repositories of the services)" }),
  FLEETCAST_GITHUB_APP_KEY: setting(z.string().trim().min(1).optional(), { shown: '—', help: "file of the GitHub App's private key (PEM, mode 0600)" }),
  FLEETCAST_GITHUB_API_URL: setting(
    z
      .string()
      .trim()
      .refine((url) => /^https?:\/\/[^/\s]+(\/\S*)?$/.test(url), 'must be an http(s) URL such as https://api.github.com or https://github.example.com/api/v3')
      .transform((url) => url.replace(/\/+$/, '')),
    { default: 'https://api.github.com', help: 'GitHub REST API base URL (GitHub Enterprise: https://HOST/api/v3)' },
  ),
  FLEETCAST_SLACK_API_URL: setting(
    z
      .string()
      .trim()
      .refine((url) => /^https?:\/\/[^/\s]+(\/\S*)?$/.test(url), 'must be an http(s) URL such as https://slack.com/api/')
      .transform((url) => url.replace(/\/*$/, '/')),
    { default: 'https://slack.com/api/', help: 'Slack Web API base URL' },
  ),
  /** Where the bot listens for Slack's requests (HTTP mode; they arrive at /slack/events). */
  FLEETCAST_BOT_LISTEN: setting(
    listenSetting(),
    { default: '127.0.0.1:3000', help: 'host:port the bot listens on for Slack requests at /slack/events, HTTP mode' },
  ),
  /** The channel each service's finished builds and deploys are announced in: `api=C0123,web=C0456,*=C0789`. */
  FLEETCAST_SLACK_CHANNELS: setting(
    z
      .string()
      .optional()
      .transform((text) => (text ?? '').split(',').map((pair) => pair.trim()).filter(Boolean))
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
    { shown: '— (no announcements)', help: 'where finished builds and deploys are announced: api=C0123,*=C0456' },
  ),
  /** DHT nodes P2P peers meet through (FLEETCAST_DHT_BOOTSTRAP=10.0.0.5:49737,10.0.0.6:49737). */
  FLEETCAST_DHT_BOOTSTRAP: setting(
    z
      .string()
      .transform((text) => text.split(',').map((node) => node.trim()).filter(Boolean))
      .pipe(
        z
          .array(z.string().refine((node) => dhtNode.test(node) && Number(dhtNode.exec(node)![2]) <= 65_535, 'each node must be host:port, e.g. 10.0.0.5:49737'))
          .min(1, 'name at least one DHT node (host:port)'),
      )
      .transform((nodes) => nodes.map((node) => ({ host: dhtNode.exec(node)![1]!, port: Number(dhtNode.exec(node)![2]) }))),
    { default: defaultDhtAddress, help: 'comma-separated host:port of the DHT nodes P2P peers meet through, e.g. those of fleetcast dht' },
  ),
  /** Bytes per second this machine uploads to all its P2P peers together. */
  FLEETCAST_P2P_UPLOAD_LIMIT: setting(
    byteRate,
    { shown: 'no limit', help: 'bytes per second this machine uploads to its P2P peers, all together, e.g. 80M' },
  ),
  /** Bytes per second this machine downloads from all its P2P peers together. */
  FLEETCAST_P2P_DOWNLOAD_LIMIT: setting(
    byteRate,
    { shown: 'no limit', help: 'bytes per second this machine downloads from its P2P peers, all together, e.g. 200M' },
  ),
  /** P2P connections one machine keeps at most (seeders: agents served at once). */
  FLEETCAST_P2P_MAX_PEERS: setting(
    z.coerce.number().int().min(1).max(10_000),
    { default: '64', help: 'P2P connections this machine keeps at most' },
  ),
  /** The machine's P2P identity file (issued by the fleet's P2P CA): its Noise key and the CA's signature. */
  FLEETCAST_P2P_IDENTITY: setting(
    z.string().trim().min(1).optional(),
    { shown: '— (required for P2P)', help: "this machine's P2P identity file (fleetcast creds issue agent|seeder); peers admit only fleet identities" },
  ),
  /** Public keys of the P2P CA whose identities peers admit: `ed25519:…` or files of them, comma-separated. */
  FLEETCAST_P2P_CA_KEYS: setting(
    z.string().trim().min(1).optional(),
    { shown: '— (required for P2P)', help: 'public keys (ed25519:… or files of them, comma-separated) of the P2P CA whose identities this machine admits' },
  ),
  /** Address the P2P sockets bind to (UDP: the swarm; TCP: blocks); peers of the region reach the machine there. */
  FLEETCAST_P2P_HOST: setting(
    z.string().trim().regex(/^[A-Za-z0-9.:-]+$/, 'must be an address, e.g. 10.0.3.17'),
    { default: '127.0.0.1', help: "address this machine's P2P sockets bind to (UDP swarm, TCP blocks): its address on the region's network" },
  ),
  /** Port of the P2P sockets (the same number for UDP and TCP); 0: a free one chosen at start. */
  FLEETCAST_P2P_PORT: setting(
    z.coerce.number().int().min(0).max(65_535),
    { default: '49740', help: 'port of the P2P sockets, UDP and TCP (0: a free port chosen at start)' },
  ),
  /** Where a seeder keeps its cores; unset: `<data dir>/seeder/<region>`. */
  FLEETCAST_SEEDER_DIR: setting(
    z.string().min(1).optional(),
    { shown: '`<data dir>/seeder/<region>`', help: "where a seeder keeps its cores, about one artifact's size each" },
  ),
  /** Newest builds per service in the regional bucket a seeder turns into cores before any deploy. */
  FLEETCAST_SEEDER_PREHEAT: setting(
    z.coerce.number().int().min(0).max(100),
    { default: '2', help: 'newest builds per service in the regional bucket a seeder prepares before they are deployed; 0: goals only' },
  ),
  /** How often a seeder lists the regional bucket for builds to preheat. */
  FLEETCAST_SEEDER_SCAN_EVERY: setting(
    durationMs,
    { default: '30s', help: 'how often a seeder lists the regional bucket for builds to preheat' },
  ),
} as const;

export type SettingName = keyof typeof settings;
type Settings = typeof settings;
export type SettingValues<K extends SettingName> = { [P in K]: z.output<Settings[P]['schema']> };

/** The default as the README's tables show it (markdown), or undefined for a setting without one. */
export function settingDefaultText(name: SettingName): string | undefined {
  const definition: SettingDefinition = settings[name];
  return definition.shown ?? (definition.default === undefined ? undefined : `\`${definition.default}\``);
}

/** One line per setting for `--help`: its help and, generated from its definition, its default. */
export function settingHelp(name: SettingName): string {
  const shown = settingDefaultText(name);
  if (shown === undefined) return settings[name].help;
  const plain = shown.replaceAll('`', '');
  // `— (webhook off: 404)`: nothing by default, and what that means.
  const unset = /^— \((.*)\)$/.exec(plain);
  if (unset) return `${settings[name].help} (${/^required/.test(unset[1]!) ? unset[1] : `default: ${unset[1]}`})`;
  return `${settings[name].help} (default${settings[name].shown === undefined ? '' : ':'} ${plain})`;
}

/** `FLEETCAST_DATABASE_URL` → `--database-url`. */
export function flagName(setting: SettingName): string {
  return '--' + setting.replace(/^FLEETCAST_/, '').toLowerCase().replaceAll('_', '-');
}
