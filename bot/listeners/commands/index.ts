import type { App } from '@slack/bolt';
import type { BotContext } from '../../bot-context.ts';
import { buildCommand } from './build.ts';
import { buildsCommand } from './builds.ts';
import { commandListener, type CommandHandler } from './command-listener.ts';
import { deployCommand } from './deploy.ts';
import { lockCommand, unlockCommand } from './lock.ts';
import { rollbackCommand } from './rollback.ts';
import { statusCommand } from './status.ts';
import { helpMessage, type CommandName } from '../../messages/help.ts';
import { replyToAsker } from '../reply.ts';

/** `/fleetcast [help]`: the list of commands. */
const helpCommand: CommandHandler = async (_ctx, request) => {
  await replyToAsker(request.respond, helpMessage());
};

const handlers: Record<CommandName, CommandHandler> = {
  deploy: deployCommand,
  rollback: rollbackCommand,
  build: buildCommand,
  builds: buildsCommand,
  status: statusCommand,
  lock: lockCommand,
  unlock: unlockCommand,
  fleetcast: helpCommand,
};

/** The slash commands the bot answers. */
export const commandNames = Object.keys(handlers);

/** One slash command per handler (ops/slack/manifest.yml declares the same list). */
export function registerCommands(app: App, ctx: BotContext): void {
  for (const [name, handle] of Object.entries(handlers) as [CommandName, CommandHandler][]) {
    app.command(`/${name}`, commandListener(name, ctx, handle));
  }
}
