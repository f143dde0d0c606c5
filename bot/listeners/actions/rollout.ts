import type { BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { BotContext } from '../../bot-context.ts';
import { section } from '../../messages/blocks.ts';
import { refusalMessage } from '../../messages/refusal.ts';
import { decodeRolloutTarget, type RolloutAction } from '../../messages/rollout-buttons.ts';
import { mention } from '../../slack/slack-user.ts';
import { replyToAsker } from '../reply.ts';

const done: Record<RolloutAction, string> = { pause: 'paused', resume: 'resumed', promote: 'promoted', abort: 'aborted' };

/**
 * A click on Pause, Resume, Promote or Abort of a progress message: ack() first; whoever clicks
 * needs the same permission as /deploy on the service; the coordinator does the rest (it is
 * idempotent, so a double click or a redelivery changes nothing twice). The progress message
 * follows by itself; the clicker gets an ephemeral answer.
 */
export function rolloutButtonListener(ctx: BotContext, action: RolloutAction) {
  return async ({ ack, body, action: button, respond }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>>): Promise<void> => {
    await ack();
    const user = { id: body.user.id, name: body.user.username };
    const log = ctx.logger.child({ action: button.action_id, user: user.id });
    ctx.tasks.run(button.action_id, async () => {
      try {
        const target = decodeRolloutTarget(button.value ?? '');
        await ctx.permissions.check(user, 'deploy', target.service);
        const deployment = await ctx.fleet.control(user, action, target.deployment, { reason: 'from Slack', ...(target.wave === undefined ? {} : { wave: target.wave }) });
        const text = deployment.replayed
          ? `${deployment.id} was ${done[action]} already (${deployment.status}); nothing changed.`
          : `${mention(user.id)} ${done[action]} ${deployment.id} (${deployment.status})${deployment.error ? `: ${deployment.error}` : ''}`;
        log.info({ deployment: deployment.id, status: deployment.status }, `rollout ${done[action]} from Slack`);
        await replyToAsker(respond, { text, blocks: [section(text)] });
      } catch (err) {
        log.info({ err }, 'click refused or failed');
        await replyToAsker(respond, refusalMessage(err)).catch((e: unknown) => log.warn({ err: e }, 'could not answer through response_url'));
      }
    });
  };
}
