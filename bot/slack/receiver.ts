import { HTTPReceiver, SocketModeReceiver, type Receiver } from '@slack/bolt';
import type { SlackMode } from '../config.ts';
import type { BoltLogger } from './bolt-logger.ts';
import type { ReplayGuard } from './replay-guard.ts';

/** Where Slack sends HTTP requests (the manifest's request URLs end with it). */
export const slackEventsPath = '/slack/events';

export interface ReceiverOptions {
  mode: SlackMode;
  signingSecret: string | undefined;
  appToken: string | undefined;
  slackApiUrl: string;
  logger: BoltLogger;
  /** HTTP mode's; null in Socket Mode. */
  replayGuard: ReplayGuard | null;
}

/**
 * HTTP mode: Bolt's HTTPReceiver verifies each request's signature and timestamp (a bad one,
 * or one older than 5 minutes, is 401) and the replay guard refuses a copy of one seen before.
 * Socket Mode: the bot opens a WebSocket to Slack (apps.connections.open with the app token);
 * nothing listens, so nothing needs signatures.
 */
export function createReceiver(options: ReceiverOptions): Receiver {
  if (options.mode === 'socket') {
    return new SocketModeReceiver({
      appToken: options.appToken!,
      logger: options.logger,
      installerOptions: { clientOptions: { slackApiUrl: options.slackApiUrl } },
    });
  }
  const guard = options.replayGuard!;
  return new HTTPReceiver({
    signingSecret: options.signingSecret!,
    endpoints: slackEventsPath,
    logger: options.logger,
    customPropertiesExtractor: guard.extract,
    processEventErrorHandler: guard.processEventErrorHandler,
  });
}
