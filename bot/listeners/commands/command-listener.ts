import type { RespondFn, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { BotContext } from '../../bot-context.ts';
import { helpMessage, type CommandName } from '../../messages/help.ts';
import { refusalMessage } from '../../messages/refusal.ts';
import type { SlackUser } from '../../slack/slack-user.ts';
import { replyToAsker } from '../reply.ts';
import { words } from './command-text.ts';

/** A slash command as a handler sees it: no Bolt, easy to drive. */
export interface CommandRequest {
  user: SlackUser;
  /** The words after the command. */
  args: string[];
  /** The text after the command, as typed. */
  text: string;
  /** Where the command was typed. */
  channel: string;
  /** Answers through the command's response_url. */
  respond: RespondFn;
}

export type CommandHandler = (ctx: BotContext, request: CommandRequest) => Promise<void>;

/**
 * The Bolt listener of a command: ack() first and at once (Slack wants it within 3 s and
 * retries otherwise), then the work in the background — the answer goes through
 * response_url. `help` is answered here; any error becomes an ephemeral refusal in the
 * wording of its code.
 */
export function commandListener(name: CommandName, ctx: BotContext, handle: CommandHandler) {
  return async ({ command, ack, respond }: SlackCommandMiddlewareArgs): Promise<void> => {
    await ack();
    const args = words(command.text ?? '');
    const user = { id: command.user_id, name: command.user_name };
    const log = ctx.logger.child({ command: `/${name}`, user: user.id, channel: command.channel_id });
    ctx.tasks.run(`/${name}`, async () => {
      try {
        if (args[0]?.toLowerCase() === 'help') {
          await replyToAsker(respond, helpMessage(name === 'fleetcast' ? undefined : name));
          return;
        }
        await handle(ctx, { user, args, text: command.text ?? '', channel: command.channel_id, respond });
      } catch (err) {
        log.info({ err }, 'command refused or failed');
        await replyToAsker(respond, refusalMessage(err)).catch((e: unknown) => log.warn({ err: e }, 'could not answer through response_url'));
      }
    });
  };
}
