import { section } from '../../messages/blocks.ts';
import { mention } from '../../slack/slack-user.ts';
import { replyToAsker } from '../reply.ts';
import type { ClickHandler } from './action-listener.ts';

/** Cancel on a preview: the preview says who cancelled and that nothing was done; a confirmed plan cannot be cancelled. */
export const cancelPlan: ClickHandler = async (ctx, click) => {
  const { plan, user } = click;
  const earlier = ctx.plans.cancel(plan, user.id);
  if (earlier?.state === 'confirmed') {
    const text = `This ${plan.kind} was confirmed by ${mention(earlier.by)} and is under way; \`/rollback ${plan.service}\` undoes a deploy.`;
    await replyToAsker(click.respond, { text, blocks: [section(text)] });
    return;
  }
  const what = plan.kind === 'deploy' ? `Deploy of ${plan.service} ${plan.build}` : `Rollback of ${plan.service}`;
  const text = `${what} cancelled by ${mention(earlier?.by ?? user.id)}; nothing was done.`;
  await replyToAsker(click.respond, { text, blocks: [section(`:no_entry_sign: ${text}`)] }, { replace: true });
};
