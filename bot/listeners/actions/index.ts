import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { BotContext } from '../../bot-context.ts';
import { cancelAction, confirmDeployAction } from '../../messages/deploy-preview.ts';
import { confirmRollbackAction } from '../../messages/rollback-preview.ts';
import { rolloutActionIds, type RolloutAction } from '../../messages/rollout-buttons.ts';
import { rolloutButtonListener } from './rollout.ts';
import { planButtonListener } from './action-listener.ts';
import { cancelPlan } from './cancel.ts';
import { confirmPlan } from './confirm.ts';

/** The action ids of the buttons the bot answers. */
export const actionIds = [confirmDeployAction, confirmRollbackAction, cancelAction, ...Object.values(rolloutActionIds)];

/** The buttons of the previews (interactivity: ops/slack/manifest.yml). */
export function registerActions(app: App, ctx: BotContext): void {
  app.action<BlockAction<ButtonAction>>(confirmDeployAction, planButtonListener(ctx, confirmPlan));
  app.action<BlockAction<ButtonAction>>(confirmRollbackAction, planButtonListener(ctx, confirmPlan));
  app.action<BlockAction<ButtonAction>>(cancelAction, planButtonListener(ctx, cancelPlan));
  for (const [action, id] of Object.entries(rolloutActionIds)) app.action<BlockAction<ButtonAction>>(id, rolloutButtonListener(ctx, action as RolloutAction));
}
