import { nkeyAuthenticator, type NatsConnection, type Status } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { FleetcastError } from '../errors/index.ts';
import { natsCredsPublicKey, privateInboxPrefix, readNatsCreds } from '../trust/index.ts';
import { backoffDelay } from '../lifecycle/index.ts';
import { silentLogger, type Logger } from '../logging/index.ts';
import { natsFailureKind } from './nats-failure.ts';

/** The client connection every goalstate class takes; callers outside goalstate/ need not know the nats packages. */
export type { NatsConnection } from '@nats-io/nats-core';

export interface NatsConnectOptions {
  /** `nats://[user:password@]host:port`, several separated by commas (FLEETCAST_NATS_URL). */
  url: string;
  /**
   * The creds file of this process's own NATS identity (FLEETCAST_NATS_CREDS, written by
   * `fleetcast creds issue`): the client proves it holds the nkey; no password travels. Read at
   * every connect, so a renewed file is used from the next reconnect on.
   */
  credsFile?: string;
  /**
   * The CA whose certificates the servers present (FLEETCAST_NATS_CA): the connection is TLS,
   * checked against it. Without it a `tls://` URL uses the system's CAs.
   */
  caFile?: string;
  /** What the server is, for messages and logs: `the NATS hub`, `the NATS leaf of region eu`. */
  role: string;
  /** What a person should start when it is unreachable. */
  startHint?: string;
  /** The client's name in the server's monitoring. @defaultValue `fleetcast` */
  name?: string;
  /**
   * Keep trying until the server answers instead of failing at once. Agents start before their
   * leaf at boot; a coordinator or a CLI command should fail with a clear message instead.
   * @defaultValue false
   */
  waitForServer?: boolean;
  /** Longest pause between reconnect attempts (the pause doubles from 100 ms up to this). @defaultValue 5_000 */
  maxReconnectDelayMs?: number;
  /** Timeout of the first connection attempt and of each request. @defaultValue 5_000 */
  timeoutMs?: number;
  /** @defaultValue a silent logger */
  logger?: Logger;
}

/** The parts of a NATS URL the client takes separately; the password never reaches a message. */
export interface NatsEndpoint {
  servers: string[];
  user?: string;
  pass?: string;
  /** For messages: `nats://agent:***@127.0.0.1:4222`. */
  redacted: string;
}

export function parseNatsUrl(url: string): NatsEndpoint {
  const servers: string[] = [];
  let user: string | undefined;
  let pass: string | undefined;
  for (const part of url.split(',').map((u) => u.trim()).filter(Boolean)) {
    let parsed: URL;
    try {
      parsed = new URL(part.includes('://') ? part : `nats://${part}`);
    } catch {
      throw new FleetcastError('CONFIG_INVALID', `invalid NATS URL ${JSON.stringify(redact(part))}: use nats://[user:password@]host:port`, {});
    }
    if (parsed.username) {
      user = decodeURIComponent(parsed.username);
      pass = decodeURIComponent(parsed.password);
    }
    servers.push(`${parsed.protocol}//${parsed.host}`);
  }
  if (servers.length === 0) throw new FleetcastError('CONFIG_INVALID', 'no NATS URL given: set FLEETCAST_NATS_URL to nats://[user:password@]host:port', {});
  return { servers, user, pass, redacted: servers.map((s) => (user ? s.replace('://', `://${user}:***@`) : s)).join(',') };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

/** The default hint: how to get a server up for development. */
export const defaultStartHint = 'Start it (for development: npx tsx ops/nats/start-cluster.ts --regions <regions>), or point FLEETCAST_NATS_URL at a running one.';

/**
 * Connects with the settings every fleetcast NATS client uses: reconnect forever with backoff
 * (a region must ride out its leaf restarting), connection events logged, and a first-connect
 * failure turned into an error that names the server and what to start.
 */
export async function connectNats(options: NatsConnectOptions): Promise<NatsConnection> {
  const endpoint = parseNatsUrl(options.url);
  const { credsFile } = options;
  // Read once now: a missing or malformed file is a configuration error, not an unreachable server.
  const identity = credsFile ? natsCredsPublicKey(credsFile) : undefined;
  const logger = options.logger ?? silentLogger();
  const maxDelay = options.maxReconnectDelayMs ?? 5_000;
  let attempts = 0;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: endpoint.servers,
      user: endpoint.user,
      pass: endpoint.pass,
      ...(credsFile ? { authenticator: nkeyAuthenticator(() => readNatsCreds(credsFile)) } : {}),
      // An identity's replies and deliveries come to its own inbox subjects, the only ones its permissions let it subscribe to.
      ...(identity ? { inboxPrefix: privateInboxPrefix(identity) } : {}),
      ...(options.caFile || endpoint.servers.some((server) => server.startsWith('tls:')) ? { tls: options.caFile ? { caFile: options.caFile } : {} } : {}),
      name: options.name ?? 'fleetcast',
      timeout: options.timeoutMs ?? 5_000,
      maxReconnectAttempts: -1,
      waitOnFirstConnect: options.waitForServer ?? false,
      // Doubling pause with jitter: 100,000 agents of a region must not reconnect in lockstep
      // when their leaf comes back.
      reconnectDelayHandler: () => {
        return Math.round(backoffDelay(++attempts, { initialMs: 100, maxMs: maxDelay, jitter: 0.5 }));
      },
    });
  } catch (err) {
    const natsError = err instanceof Error ? err.name : typeof err;
    if (natsFailureKind(err) === 'auth-refused') {
      throw new FleetcastError(
        'CONFIG_INVALID',
        identity
          ? `${options.role} at ${endpoint.redacted} refused the NATS identity ${identity} of ${credsFile}: it was revoked or never issued for this server — issue one with fleetcast creds issue and point FLEETCAST_NATS_CREDS at it`
          : `${options.role} at ${endpoint.redacted} refused the credentials${endpoint.user ? ` of user ${endpoint.user}` : ' (none were given)'}: set FLEETCAST_NATS_CREDS to this machine's creds file (fleetcast creds issue), or put the right user:password into FLEETCAST_NATS_URL`,
        { server: endpoint.redacted, natsError, ...(identity ? { identity } : {}) },
        { cause: err },
      );
    }
    throw new FleetcastError(
      'NATS_UNAVAILABLE',
      `cannot reach ${options.role} at ${endpoint.redacted} (${(err as Error).message}). ${options.startHint ?? defaultStartHint}`,
      { server: endpoint.redacted, natsError },
      { cause: err },
    );
  }
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'reconnect') attempts = 0;
      if (status.type === 'disconnect' || status.type === 'reconnect' || status.type === 'error') {
        const level = status.type === 'reconnect' ? 'info' : 'warn';
        logger[level]({ server: endpoint.redacted, event: status.type, detail: statusDetail(status) }, `${options.role}: ${status.type}`);
      }
    }
  })();
  return nc;
}

/** What a status event says beyond its type: the server it concerns, or the error. */
function statusDetail(status: Status): string {
  if (status.type === 'error') return status.error.message;
  return 'server' in status ? status.server : '';
}
