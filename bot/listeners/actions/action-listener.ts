import type { BlockAction, ButtonAction, RespondFn, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { BotContext } from '../../bot-context.ts';
import { refusalMessage } from '../../messages/refusal.ts';
import { decodePlan, type Plan } from '../../plans/plan.ts';
import type { SlackUser } from '../../slack/slack-user.ts';
import { replyToAsker } from '../reply.ts';

/** A click on a preview's button, as a handler sees it. */
export interface PlanClick {
  user: SlackUser;
  plan: Plan;
  /** The channel the preview is in. */
  channel: string;
  /** The preview's response_url: `replace_original` changes the preview itself. */
  respond: RespondFn;
}

export type ClickHandler = (ctx: BotContext, click: PlanClick) => Promise<void>;

/** The Bolt listener of a preview button: ack() first, then the handler in the background; errors become an ephemeral refusal. */
export function planButtonListener(ctx: BotContext, handle: ClickHandler) {
  return async ({ ack, body, action, respond }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>>): Promise<void> => {
    await ack();
    const user = { id: body.user.id, name: body.user.username };
    const channel = body.channel?.id ?? String(body.container.channel_id ?? '');
    const log = ctx.logger.child({ action: action.action_id, user: user.id, channel });
    ctx.tasks.run(action.action_id, async () => {
      try {
        await handle(ctx, { user, plan: decodePlan(action.value), channel, respond });
      } catch (err) {
        log.info({ err }, 'click refused or failed');
        await replyToAsker(respond, refusalMessage(err)).catch((e: unknown) => log.warn({ err: e }, 'could not answer through response_url'));
      }
    });
  };
}
