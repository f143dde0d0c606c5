import { loadConfig, type ConfigSources, type SettingValues } from '../config/index.ts';
import { FleetcastError } from '../errors/index.ts';

/** What `fleetcast bot` reads: the client settings every client has, and Slack's. */
export const botSettings = [
  'FLEETCAST_DATA_DIR',
  'FLEETCAST_API_URL',
  'FLEETCAST_API_TOKEN',
  'FLEETCAST_API_CA',
  'FLEETCAST_LOG_LEVEL',
  'FLEETCAST_SLACK_BOT_TOKEN',
  'FLEETCAST_SLACK_SIGNING_SECRET',
  'FLEETCAST_SLACK_APP_TOKEN',
  'FLEETCAST_SLACK_API_URL',
  'FLEETCAST_BOT_LISTEN',
  'FLEETCAST_TLS_CERT',
  'FLEETCAST_TLS_KEY',
  'FLEETCAST_PERMISSIONS',
  'FLEETCAST_SLACK_CHANNELS',
] as const;

type Settings = SettingValues<(typeof botSettings)[number]>;

/** The bot's settings, with the ones Slack cannot do without made required. */
export type BotConfig = Settings & { FLEETCAST_SLACK_BOT_TOKEN: string };

/** How Slack reaches the bot: HTTP requests at /slack/events, or a WebSocket the bot opens (Socket Mode). */
export type SlackMode = 'http' | 'socket';

/**
 * Validates the settings once, at start. Which mode follows from what is set: an app-level
 * token means Socket Mode (nothing listens; the signing secret is not needed), otherwise HTTP
 * mode, which needs the signing secret to verify every request.
 */
export function loadBotConfig(sources?: ConfigSources): BotConfig {
  const config = loadConfig(botSettings, sources);
  const problems: string[] = [];
  if (config.FLEETCAST_SLACK_BOT_TOKEN === undefined) {
    problems.push('FLEETCAST_SLACK_BOT_TOKEN (--slack-bot-token): the bot token xoxb-… (OAuth & Permissions → Bot User OAuth Token) is required (not set)');
  }
  if (config.FLEETCAST_SLACK_APP_TOKEN === undefined && config.FLEETCAST_SLACK_SIGNING_SECRET === undefined) {
    problems.push(
      'FLEETCAST_SLACK_SIGNING_SECRET (--slack-signing-secret): HTTP mode verifies every request with the signing secret (Basic Information → App Credentials); ' +
        'set it, or set FLEETCAST_SLACK_APP_TOKEN (xapp-…) for Socket Mode (not set)',
    );
  }
  if (problems.length > 0) throw new FleetcastError('CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`, { problems });
  return config as BotConfig;
}

export function slackMode(config: Pick<BotConfig, 'FLEETCAST_SLACK_APP_TOKEN'>): SlackMode {
  return config.FLEETCAST_SLACK_APP_TOKEN === undefined ? 'http' : 'socket';
}
