import { previewRefusal } from '../../fleet/preview-refusal.ts';
import { deployPreview } from '../../messages/deploy-preview.ts';
import { newPlan } from '../../plans/plan.ts';
import { replyToAsker } from '../reply.ts';
import type { CommandHandler } from './command-listener.ts';
import { buildArg, deployTargetArg } from './command-text.ts';

/**
 * `/deploy BUILD [REGIONS | WAVES]`: a preview only the asker sees — the build, the commits it
 * ships, what each region runs now, the waves — with Deploy / Cancel. The coordinator judges it
 * (its preview route, the deploy's own rules): what would be refused is refused now, in words —
 * not allowed, not deployable (which regions lack a copy, how far the copies are), locked.
 */
export const deployCommand: CommandHandler = async (ctx, request) => {
  const [ref, ...rest] = request.args;
  const buildId = buildArg('deploy', ref);
  const target = deployTargetArg('deploy', rest);
  const build = await ctx.fleet.build(buildId);
  await ctx.permissions.check(request.user, 'deploy', build.service);
  const preview = await ctx.fleet.previewDeploy(request.user, { build: build.id, regions: target.regions, waves: target.waves });
  const refusal = previewRefusal(preview);
  if (refusal) throw refusal;
  const plan = newPlan({ kind: 'deploy', service: build.service, build: build.id, regions: target.regions ?? null, waves: target.waves ?? null, user: request.user.id }, ctx.now());
  await replyToAsker(request.respond, deployPreview(plan, preview, ctx.now()));
};
