import { historyName, mention, type SlackUser } from '../slack/slack-user.ts';
import type { StatusInfo } from '../fleet/fleet-json.ts';
import { encodePlan, type Plan } from '../plans/plan.ts';
import { actions, button, context, fields, header, section, type SlackMessage } from './blocks.ts';
import { cancelAction } from './deploy-preview.ts';

export const confirmRollbackAction = 'rollback_confirm';

/** What the preview could learn before asking; during an incident parts may be missing (the database down). */
export interface RollbackOutlook {
  status: StatusInfo | null;
  /** The build the rollback returns to, when known (named, or the newest converged deployment of another build). */
  target: string | null;
  /** Why the preview could not look everything up (the coordinator's database is down…); the rollback still works. */
  unknown: string | null;
}

/** One confirmation for on-call: what goes back where, and that the service stays locked. */
export function rollbackPreview(plan: Plan, user: SlackUser, outlook: RollbackOutlook): SlackMessage {
  const target = outlook.target ?? 'the build deployed before';
  const regions = plan.regions ?? outlook.status?.regions.map((r) => r.region) ?? null;
  const blocks: SlackMessage['blocks'] = [header(`Roll back ${plan.service}?`)];
  if (outlook.status && regions) {
    const goals = new Map(outlook.status.regions.map((r) => [r.region, r.goal?.build ?? null]));
    blocks.push(fields(regions.map((region) => `*${region}*: ${goals.get(region) ?? 'nothing'} → *${target}*`)));
  } else {
    blocks.push(section(`Every region${plan.regions ? ` of ${plan.regions.join(', ')}` : ''} goes back to *${target}*.`));
  }
  blocks.push(section(`Then *${plan.service}* stays locked (_rolled back by ${historyName(user)}_) until \`/unlock ${plan.service}\`.`));
  if (outlook.unknown) blocks.push(context(`:warning: ${outlook.unknown}`));
  blocks.push(context(`Asked by ${mention(plan.user)}`));
  blocks.push(actions(`plan-${plan.id}`, [button(confirmRollbackAction, 'Roll back', encodePlan(plan), 'danger'), button(cancelAction, 'Cancel', encodePlan(plan))]));
  return { text: `Roll back ${plan.service} to ${target}?`, blocks };
}
