import { App, type Receiver, type webApi } from '@slack/bolt';
import type { BotContext } from './bot-context.ts';
import { registerListeners } from './listeners/index.ts';
import type { BoltLogger } from './slack/bolt-logger.ts';
import type { RedeliveryGuard } from './slack/redelivery-guard.ts';
import type { ReplayGuard } from './slack/replay-guard.ts';

export interface SlackAppOptions {
  receiver: Receiver;
  botToken: string;
  /** From auth.test at start: Bolt then asks nothing itself. */
  identity: { botId: string; botUserId: string };
  clientOptions: webApi.WebClientOptions;
  logger: BoltLogger;
  /** HTTP mode only: refuses replayed requests. */
  replayGuard: ReplayGuard | null;
  redeliveryGuard: RedeliveryGuard;
}

/** The Bolt app: the guards first, then the listeners; errors that reach Bolt go back to its receiver (a replay becomes 401). */
export function createSlackApp(ctx: BotContext, options: SlackAppOptions): App {
  const app = new App({
    receiver: options.receiver,
    token: options.botToken,
    botId: options.identity.botId,
    botUserId: options.identity.botUserId,
    clientOptions: options.clientOptions,
    logger: options.logger,
  });
  if (options.replayGuard) app.use(options.replayGuard.middleware);
  app.use(options.redeliveryGuard.middleware);
  registerListeners(app, ctx);
  app.error(async (error) => {
    ctx.logger.debug({ err: error }, 'error reached Bolt');
    throw error;
  });
  return app;
}
