import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { loadBotConfig, runBot, type BotHandle } from '../../bot/index.ts';
import type { CoordinatorOverrides } from '../../coordinator/index.ts';
import type { Dialect } from '../../entities/index.ts';
import { silentLogger } from '../../logging/index.ts';
import { serviceBody, startTestCoordinator, type TestCoordinator } from './coordinator.ts';
import { FakeSlack, type FakeSlackOptions } from './fake-slack.ts';
import { TestNatsCluster } from './nats-cluster.ts';
import { SlackRequests } from './slack-requests.ts';

export interface BotTestbedOptions {
  regions: string[];
  dialect: Dialect;
  /** The permissions file's `slack` part (the coordinator's token for the bot is added). */
  slackPermissions: Record<string, unknown>;
  /** Services registered before the bot starts. @defaultValue ['api'] */
  services?: string[];
  /** Added to the coordinator's settings (e.g. its own FLEETCAST_DATABASE_URL). */
  coordinatorEnv?: Record<string, string>;
  coordinatorOverrides?: CoordinatorOverrides;
  fakeSlack?: FakeSlackOptions;
  /** Added to the bot's settings (e.g. FLEETCAST_SLACK_CHANNELS). */
  botEnv?: Record<string, string>;
  /** Socket Mode with an app token instead of HTTP with a signing secret. @defaultValue false */
  socketMode?: boolean;
}

/** The Slack bot's test installation: a NATS hub and leaves, a coordinator, Slack faked at its boundary, the real Bolt app. */
export class BotTestbed {
  static readonly signingSecret = 'bot-testbed-signing-secret-0123456789';
  static readonly appToken = 'xapp-1-A0FLEET-socket-test';

  private constructor(
    readonly cluster: TestNatsCluster,
    readonly coordinator: TestCoordinator,
    readonly slack: FakeSlack,
    readonly bot: BotHandle,
    readonly dir: string,
    private readonly env: Record<string, string>,
  ) {}

  /** The permissions file the coordinator and the bot read. */
  get permissions(): string {
    return path.join(this.dir, 'permissions.json');
  }

  /** The running bot's settings with `overrides` (undefined removes one): for another bot of the same installation. */
  botEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
    return { ...this.env, ...overrides };
  }

  /** Signed requests to the bot's HTTP listener (HTTP mode only). */
  get requests(): SlackRequests {
    if (this.bot.url === null) throw new Error('the bot runs in Socket Mode: send envelopes through slack.sendEnvelope');
    return new SlackRequests(this.bot.url, BotTestbed.signingSecret);
  }

  static async start(options: BotTestbedOptions): Promise<BotTestbed> {
    const botApiToken = 'bot-testbed-api-token-0123456789abcdef';
    const cluster = await TestNatsCluster.start(options.regions);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-bot-'));
    const permissions = path.join(dir, 'permissions.json');
    // One file for both: the coordinator reads `tokens`, the bot `slack`.
    fs.writeFileSync(permissions, JSON.stringify({ tokens: [{ name: 'slack-bot', token: botApiToken, scopes: ['deploy'], actAs: true }], slack: options.slackPermissions }));
    const slack = await FakeSlack.start(options.fakeSlack);
    const coordinator = await startTestCoordinator(options.dialect, {
      env: {
        // The coordinator checks the bot's relayed requests against the same grants, groups included.
        FLEETCAST_SLACK_BOT_TOKEN: 'xoxb-test-bot-token',
        FLEETCAST_SLACK_API_URL: slack.apiUrl,
        FLEETCAST_NATS_URL: cluster.urls.hub,
        FLEETCAST_REGIONS: options.regions.join(','),
        FLEETCAST_REPLICATION_CONCURRENCY: '0',
        FLEETCAST_AUDIT_EVERY: '7d',
        FLEETCAST_PERMISSIONS: permissions,
        ...options.coordinatorEnv,
      },
      ...(options.coordinatorOverrides ? { overrides: options.coordinatorOverrides } : {}),
    });
    for (const name of options.services ?? ['api']) {
      expect((await coordinator.request('POST', '/v1/services', { body: serviceBody(name) })).status).toBe(201);
    }
    const mode: Record<string, string> = options.socketMode
      ? { FLEETCAST_SLACK_APP_TOKEN: BotTestbed.appToken }
      : { FLEETCAST_SLACK_SIGNING_SECRET: BotTestbed.signingSecret, FLEETCAST_BOT_LISTEN: '127.0.0.1:0' };
    const env: Record<string, string> = {
      FLEETCAST_DATA_DIR: dir,
      FLEETCAST_API_URL: coordinator.url,
      FLEETCAST_API_TOKEN: botApiToken,
      FLEETCAST_SLACK_BOT_TOKEN: 'xoxb-test-bot-token',
      FLEETCAST_SLACK_API_URL: slack.apiUrl,
      FLEETCAST_PERMISSIONS: permissions,
      ...mode,
      ...options.botEnv,
    };
    const bot = await runBot(loadBotConfig({ env }), { logger: silentLogger(), minUpdateIntervalMs: 0 });
    return new BotTestbed(cluster, coordinator, slack, bot, dir, env);
  }

  /** Stops everything; `beforeCoordinatorStop` runs first (e.g. to bring a killed database back). */
  static async stop(testbed: BotTestbed | undefined, beforeCoordinatorStop?: () => Promise<void>): Promise<void> {
    if (!testbed) return;
    await testbed.bot.stop();
    await testbed.slack.stop();
    await beforeCoordinatorStop?.();
    await testbed.coordinator.stop();
    await testbed.cluster.stop();
    fs.rmSync(testbed.dir, { recursive: true, force: true });
  }
}
