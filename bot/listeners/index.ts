import type { App } from '@slack/bolt';
import type { BotContext } from '../bot-context.ts';
import { actionIds, registerActions } from './actions/index.ts';
import { commandNames, registerCommands } from './commands/index.ts';
import { registerUnknown } from './unknown.ts';

/** Every listener of the bot: the slash commands, the preview buttons, and an answer for anything else. */
export function registerListeners(app: App, ctx: BotContext): void {
  registerCommands(app, ctx);
  registerActions(app, ctx);
  registerUnknown(app, ctx, { commands: commandNames, actions: actionIds });
}
