import { historyName, mention, type SlackUser } from '../slack/slack-user.ts';
import type { DeployPreviewInfo } from '../fleet/fleet-json.ts';
import { commitLines } from './commit-lines.ts';
import { encodePlan, type Plan } from '../plans/plan.ts';
import { actions, button, context, fields, header, section, type SlackMessage } from './blocks.ts';
import { cancelAction } from './deploy-preview.ts';

export const confirmRollbackAction = 'rollback_confirm';

/** What the preview could learn before asking; during an incident parts may be missing (the database down). */
export interface RollbackOutlook {
  /** The coordinator's preview of the rollback; null when it could not answer in time. */
  preview: DeployPreviewInfo | null;
  /** The build the rollback returns to, when known (named, or the coordinator's choice). */
  target: string | null;
  /** Why the preview could not look everything up (the coordinator's database is down…); the rollback still works. */
  unknown: string | null;
}

/** One confirmation for on-call: what goes back where, and that the service stays locked. */
export function rollbackPreview(plan: Plan, user: SlackUser, outlook: RollbackOutlook): SlackMessage {
  const target = outlook.target ?? 'the build deployed before';
  const blocks: SlackMessage['blocks'] = [header(`Roll back ${plan.service}?`)];
  const preview = outlook.preview;
  if (preview) {
    // Rollback readiness: machines that hold the build switch to it without a transfer.
    blocks.push(
      fields(
        preview.regions.map((r) => {
          const live = r.machines - r.silent;
          const ready = r.known && live > 0 ? ` (${r.running + r.holding} of ${live} machines have it)` : '';
          return `*${r.region}*: ${r.current?.build ?? 'nothing'} → *${target}*${ready}`;
        }),
      ),
    );
    blocks.push(section(commitLines(preview)));
  } else {
    blocks.push(section(`Every region${plan.regions ? ` of ${plan.regions.join(', ')}` : ''} goes back to *${target}*.`));
  }
  blocks.push(section(`Then *${plan.service}* stays locked (_rolled back by ${historyName(user)}_) until \`/unlock ${plan.service}\`.`));
  if (outlook.unknown) blocks.push(context(`:warning: ${outlook.unknown}`));
  blocks.push(context(`Asked by ${mention(plan.user)}`));
  blocks.push(actions(`plan-${plan.id}`, [button(confirmRollbackAction, 'Roll back', encodePlan(plan), 'danger'), button(cancelAction, 'Cancel', encodePlan(plan))]));
  return { text: `Roll back ${plan.service} to ${target}?`, blocks };
}
