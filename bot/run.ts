import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import { webApi } from '@slack/bolt';
import { ApiClient, resolveClientConfig } from '../api-client/index.ts';
import { FleetcastError } from '../errors/index.ts';
import { Teardown } from '../lifecycle/index.ts';
import { ServerCertificate } from '../trust/index.ts';
import { createLogger, type Logger } from '../logging/index.ts';
import { Announcer } from './announcements/announcer.ts';
import { BuildWatcher } from './announcements/build-watcher.ts';
import { FleetFeed } from './announcements/fleet-feed.ts';
import { createSlackApp } from './app.ts';
import type { BotContext } from './bot-context.ts';
import { slackMode, type BotConfig, type SlackMode } from './config.ts';
import { FleetApi } from './fleet/fleet-api.ts';
import { readSlackGrants, SlackPermissions, UsergroupMembers } from './permissions/index.ts';
import { PlanBook } from './plans/plan-book.ts';
import { BackgroundTasks } from './progress/background-tasks.ts';
import { DeploymentWatcher } from './progress/deployment-watcher.ts';
import { BoltLogger } from './slack/bolt-logger.ts';
import { createReceiver, slackEventsPath } from './slack/receiver.ts';
import { RedeliveryGuard } from './slack/redelivery-guard.ts';
import { ReplayGuard } from './slack/replay-guard.ts';
import { checkApiToken, checkSlackToken } from './start-checks.ts';

export interface BotOverrides {
  logger?: Logger;
  /** @defaultValue Date.now */
  now?: () => number;
  /** Least time between two updates of a progress message. @defaultValue 1000 */
  minUpdateIntervalMs?: number;
  /** A coordinator request taking longer fails (COORDINATOR_UNREACHABLE). @defaultValue 15_000 */
  apiTimeoutMs?: number;
  /** How often the announcement feed is read (tests). @defaultValue feedIntervalMs */
  feedIntervalMs?: number;
}

export interface BotHandle {
  mode: SlackMode;
  /** HTTP mode: where Slack sends requests (`http://127.0.0.1:3000/slack/events`); null in Socket Mode. */
  url: string | null;
  /** Resolves once every deploy being followed and build being waited for has ended (tests). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** Wires the bot in one visible sequence; `stop()` undoes it in reverse. */
export async function runBot(config: BotConfig, overrides: BotOverrides = {}): Promise<BotHandle> {
  const logger = overrides.logger ?? createLogger({ level: config.FLEETCAST_LOG_LEVEL, bindings: { role: 'bot' } });
  const now = overrides.now ?? Date.now;
  // The permissions first: a broken file stops the start before anything is touched.
  const slackGrants = config.FLEETCAST_PERMISSIONS === undefined ? null : readSlackGrants(config.FLEETCAST_PERMISSIONS);
  if (slackGrants === null) logger.warn('no permissions file (FLEETCAST_PERMISSIONS): every change from Slack is refused; /status and /builds answer everyone');
  // HTTP mode's certificate, checked before anything starts (Socket Mode listens nowhere).
  const certificate = slackMode(config) === 'http' ? ServerCertificate.fromSettings(config) : null;
  if (slackMode(config) === 'http' && certificate === null && !['127.0.0.1', 'localhost', '::1'].includes(config.FLEETCAST_BOT_LISTEN.host)) {
    logger.warn({ listen: config.FLEETCAST_BOT_LISTEN }, 'the bot listens beyond this machine without TLS: set FLEETCAST_TLS_CERT and FLEETCAST_TLS_KEY, or keep it on 127.0.0.1 behind an HTTPS proxy');
  }

  const fleet = new FleetApi(new ApiClient(resolveClientConfig(config), { timeoutMs: overrides.apiTimeoutMs ?? 15_000 }));
  await checkApiToken(fleet, logger);

  const boltLogger = new BoltLogger(logger);
  // A few quick retries: past them the person is told, rather than kept waiting for half an hour.
  const clientOptions: webApi.WebClientOptions = { slackApiUrl: config.FLEETCAST_SLACK_API_URL, logger: boltLogger, retryConfig: webApi.retryPolicies.rapidRetryPolicy, timeout: 10_000 };
  const slack = new webApi.WebClient(config.FLEETCAST_SLACK_BOT_TOKEN, clientOptions);
  const identity = await checkSlackToken(slack, config.FLEETCAST_SLACK_API_URL);

  const teardown = new Teardown(logger);
  try {
    const tasks = new BackgroundTasks(logger);
    teardown.add('background tasks', () => tasks.stop());
    const announcer = new Announcer(slack, config.FLEETCAST_SLACK_CHANNELS, logger);
    const ctx: BotContext = {
      fleet,
      permissions: new SlackPermissions(slackGrants, new UsergroupMembers(slack, logger)),
      plans: new PlanBook(),
      deployments: new DeploymentWatcher(fleet, slack, announcer, tasks, logger, overrides.minUpdateIntervalMs === undefined ? {} : { minUpdateIntervalMs: overrides.minUpdateIntervalMs }),
      builds: new BuildWatcher(fleet, announcer, tasks, logger),
      announcer,
      tasks,
      logger,
      now,
    };

    const mode = slackMode(config);
    // Shared with the other bot replicas through the coordinator: a request replayed to another replica is refused too.
    const replayGuard = mode === 'http' ? new ReplayGuard(logger, now, (signature, timestamp) => fleet.firstSlackRequest(signature, timestamp)) : null;
    const receiver = createReceiver({
      mode,
      signingSecret: config.FLEETCAST_SLACK_SIGNING_SECRET,
      appToken: config.FLEETCAST_SLACK_APP_TOKEN,
      slackApiUrl: config.FLEETCAST_SLACK_API_URL,
      logger: boltLogger,
      replayGuard,
    });
    const app = createSlackApp(ctx, { receiver, botToken: config.FLEETCAST_SLACK_BOT_TOKEN, identity, clientOptions, logger: boltLogger, replayGuard, redeliveryGuard: new RedeliveryGuard(logger, now) });

    let url: string | null = null;
    if (mode === 'http') {
      const { host, port } = config.FLEETCAST_BOT_LISTEN;
      let server: Server;
      try {
        // With a certificate Bolt's receiver makes an https server: a plaintext request fails its handshake.
        server = (certificate === null ? await app.start({ host, port }) : await app.start({ host, port }, certificate.current())) as Server;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new FleetcastError(
          'CONFIG_INVALID',
          code === 'EADDRINUSE'
            ? `cannot listen on ${host}:${port}: the address is in use (another bot?); stop it or set FLEETCAST_BOT_LISTEN (--bot-listen) to another address`
            : `cannot listen on ${host}:${port} (${(err as Error).message}); check FLEETCAST_BOT_LISTEN (--bot-listen)`,
          { host, port },
          { cause: err },
        );
      }
      const address = server.address() as AddressInfo;
      if (certificate !== null) {
        certificate.watch(server as HttpsServer, (err) => {
          if (err) logger.error({ err, cert: certificate.certFile }, 'the bot\'s certificate changed but cannot be used: still serving the previous one');
          else logger.info({ cert: certificate.certFile }, 'the bot\'s certificate changed: serving the new one');
        });
        teardown.add('the certificate watch', () => certificate.stop());
      }
      url = `${certificate === null ? 'http' : 'https'}://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}${slackEventsPath}`;
    } else {
      await app.start();
    }
    teardown.add('the Slack app', () => app.stop());
    // What happened without the bot (CLI, API, continuous deploy, freezes) is announced too.
    if (Object.keys(config.FLEETCAST_SLACK_CHANNELS).length > 0) {
      const feed = new FleetFeed(fleet, announcer, tasks, logger, overrides.feedIntervalMs);
      feed.start();
      teardown.add('the announcement feed', () => feed.stop());
    }
    logger.info({ mode, url, team: identity.team, botUser: identity.botUserId, permissions: slackGrants?.file ?? null, channels: config.FLEETCAST_SLACK_CHANNELS }, 'bot ready');

    return {
      mode,
      url,
      idle: () => tasks.settled(),
      async stop() {
        await teardown.run();
        logger.info('bot stopped');
      },
    };
  } catch (err) {
    await teardown.run();
    throw err;
  }
}
