import { FleetcastError } from '../../../errors/index.ts';
import type { BotContext } from '../../bot-context.ts';
import type { Outcome } from '../../fleet/fleet-api.ts';
import type { DeploymentInfo } from '../../fleet/fleet-json.ts';
import { section } from '../../messages/blocks.ts';
import { idempotencyKey, planMaxAgeMs, type Plan } from '../../plans/plan.ts';
import { mention } from '../../slack/slack-user.ts';
import { replyToAsker } from '../reply.ts';
import type { ClickHandler, PlanClick } from './action-listener.ts';

/**
 * Deploy / Roll back on a preview. Whoever clicks must be allowed (checked again: permissions
 * may have changed since the preview). The first click runs it; later clicks on the same
 * preview — a double click, a Slack redelivery — get the same deployment, never a second one:
 * once in this process (PlanBook), and across restarts through the plan's Idempotency-Key.
 */
export const confirmPlan: ClickHandler = async (ctx, click) => {
  const { plan, user } = click;
  const ageMs = ctx.now() - plan.at;
  if (ageMs > planMaxAgeMs) {
    const where = plan.waves ? ` ${plan.waves.map((w) => w.join(',')).join(';')}` : plan.regions ? ` ${plan.regions.join(',')}` : '';
    const again = plan.kind === 'deploy' ? `/deploy ${plan.build}${where}` : `/rollback ${plan.service}${plan.build ? ` ${plan.build}` : ''}`;
    throw new FleetcastError('INVALID_INPUT', `This preview is ${Math.round(ageMs / 60_000)} min old and may no longer be true; nothing was done. Run \`${again}\` again.`);
  }
  await ctx.permissions.check(user, plan.kind, plan.service);
  const attempt = ctx.plans.confirm(plan, user.id, () => run(ctx, plan, click));
  if (!attempt.first) {
    const earlier = attempt.earlier;
    const said =
      earlier.state === 'cancelled'
        ? `was cancelled by ${mention(earlier.by)}; nothing was done`
        : `was confirmed already by ${mention(earlier.by)}${earlier.value ? ` (${earlier.value.value.id})` : ''}; it is not done twice`;
    await replyToAsker(click.respond, { text: `This ${plan.kind} ${said}`, blocks: [section(`This ${plan.kind} ${said}.`)] });
    return;
  }
  const { value: deployment, repeated } = await attempt.result;
  ctx.logger.info({ deployment: deployment.id, service: deployment.service, build: deployment.build, kind: deployment.kind, by: user.id, repeated }, `${plan.kind} confirmed from Slack`);
  if (repeated) {
    const text = `This ${plan.kind} was confirmed before: ${deployment.id} (${deployment.status}); it is not done twice. \`/status ${deployment.service}\` shows where it stands.`;
    await replyToAsker(click.respond, { text, blocks: [section(text)] }, { replace: true });
    return;
  }
  ctx.deployments.start({ deployment, confirmedBy: user.id, channel: click.channel, respond: click.respond });
};

function run(ctx: BotContext, plan: Plan, click: PlanClick): Promise<Outcome<DeploymentInfo>> {
  const key = idempotencyKey(plan);
  if (plan.kind === 'deploy') return ctx.fleet.deploy(click.user, { build: plan.build!, regions: plan.regions ?? undefined, waves: plan.waves ?? undefined, reason: 'from Slack' }, key);
  return ctx.fleet.rollback(click.user, plan.service, { to: plan.build ?? undefined, regions: plan.regions ?? undefined }, key);
}
