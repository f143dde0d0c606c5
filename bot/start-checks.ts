// What the bot checks once at start, so a misconfiguration stops it with a message instead of
// failing each command later.
import type { webApi } from '@slack/bolt';
import { grants } from '../api-contract/index.ts';
import { FleetcastError, isFleetcastError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';
import type { FleetApi } from './fleet/fleet-api.ts';

/**
 * The bot's API token must be one the coordinator lets act for people ("actAs": true), or every
 * change would be refused (and history could not name the Slack user). A coordinator that is
 * not up yet is only a warning: the bot starts and says so per command until it is.
 */
export async function checkApiToken(fleet: FleetApi, logger: Logger): Promise<void> {
  try {
    const me = await fleet.whoami();
    if (!me.actAs) {
      throw new FleetcastError(
        'CONFIG_INVALID',
        `the bot's API token "${me.name}" may not act for Slack users: give the bot a token marked "actAs": true in the coordinator's permissions file ` +
          '(FLEETCAST_PERMISSIONS of the coordinator, e.g. {"name": "slack-bot", "token": "…", "scopes": ["deploy"], "actAs": true}) and set it as FLEETCAST_API_TOKEN',
        { token: me.name },
      );
    }
    if (!grants(me.scopes, 'deploy')) logger.warn({ token: me.name, scopes: me.scopes }, 'the bot\'s API token lacks scope deploy: the coordinator will refuse deploys, rollbacks and locks');
    logger.info({ token: me.name, scopes: me.scopes }, 'coordinator accepts the bot');
  } catch (err) {
    if (isFleetcastError(err, 'COORDINATOR_UNREACHABLE')) {
      logger.warn({ err }, 'the coordinator does not answer yet; commands will say so until it does');
      return;
    }
    if (isFleetcastError(err, 'UNAUTHORIZED')) {
      throw new FleetcastError('CONFIG_INVALID', `the coordinator refused the bot's API token: ${err.message}`, {}, { cause: err });
    }
    throw err;
  }
}

/** Slack must accept the bot token; its answer names the bot user, so Bolt needs not ask itself. */
export async function checkSlackToken(client: webApi.WebClient, apiUrl: string): Promise<{ botId: string; botUserId: string; team: string }> {
  let reply: webApi.AuthTestResponse;
  try {
    reply = await client.auth.test();
  } catch (err) {
    const code = (err as { data?: { error?: string }; code?: string }).data?.error;
    if (code !== undefined) {
      throw new FleetcastError('CONFIG_INVALID', `Slack refused FLEETCAST_SLACK_BOT_TOKEN (${code}): copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page`, { code }, { cause: err });
    }
    throw new FleetcastError('SLACK_UNAVAILABLE', `cannot reach Slack's Web API at ${apiUrl} (${(err as Error).message}); check the network or FLEETCAST_SLACK_API_URL`, { apiUrl }, { cause: err });
  }
  if (!reply.bot_id || !reply.user_id) {
    throw new FleetcastError('CONFIG_INVALID', 'FLEETCAST_SLACK_BOT_TOKEN is not a bot token (auth.test names no bot): use the Bot User OAuth Token, xoxb-…');
  }
  return { botId: reply.bot_id, botUserId: reply.user_id, team: reply.team ?? '' };
}
