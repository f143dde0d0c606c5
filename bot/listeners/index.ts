import type { App } from '@slack/bolt';
import type { BotContext } from '../bot-context.ts';
import { registerActions } from './actions/index.ts';
import { registerCommands } from './commands/index.ts';

/** Every listener of the bot: the slash commands and the preview buttons. */
export function registerListeners(app: App, ctx: BotContext): void {
  registerCommands(app, ctx);
  registerActions(app, ctx);
}
