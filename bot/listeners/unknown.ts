import type { App, BlockAction } from '@slack/bolt';
import type { BotContext } from '../bot-context.ts';

/**
 * Commands and buttons no other listener takes (an app manifest out of date, another app's
 * command routed here): acked with an answer that says so, instead of Bolt's silent 404 after
 * 3 s, which Slack shows as an opaque "dispatch_failed". Registered last; nothing is done.
 */
export function registerUnknown(app: App, ctx: BotContext, known: { commands: string[]; actions: string[] }): void {
  const unknownCommand = new RegExp(`^/(?!(?:${known.commands.map(escapeRegExp).join('|')})$)`);
  app.command(unknownCommand, async ({ command, ack }) => {
    ctx.logger.info({ command: command.command, user: command.user_id }, 'unknown command');
    await ack({ response_type: 'ephemeral', text: `fleetcast has no command ${command.command}; \`/fleetcast help\` lists the commands it has.` });
  });
  const unknownAction = new RegExp(`^(?!(?:${known.actions.map(escapeRegExp).join('|')})$)`);
  app.action<BlockAction>({ action_id: unknownAction }, async ({ action, ack, respond }) => {
    await ack();
    ctx.logger.info({ action: action.action_id }, 'unknown action');
    await respond({ response_type: 'ephemeral', replace_original: false, text: `fleetcast does not know the button ${action.action_id}; nothing was done. Run the command again for a fresh message.` });
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
