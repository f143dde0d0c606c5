import { FleetcastError } from '../../../errors/index.ts';
import { deployRefusal, lockedRefusal } from '../../fleet/deploy-refusals.ts';
import { deployPreview } from '../../messages/deploy-preview.ts';
import { newPlan } from '../../plans/plan.ts';
import { replyToAsker } from '../reply.ts';
import type { CommandHandler } from './command-listener.ts';
import { buildArg, deployTargetArg, waveRegions } from './command-text.ts';

/**
 * `/deploy BUILD [REGIONS | WAVES]`: a preview only the asker sees — the build, its commit, what
 * each region runs now, the waves — with Deploy / Cancel. What would be refused is refused now, in words: not
 * allowed, not deployable (which regions lack a copy, how far the copies are), locked.
 */
export const deployCommand: CommandHandler = async (ctx, request) => {
  const [ref, ...rest] = request.args;
  const buildId = buildArg('deploy', ref);
  const target = deployTargetArg('deploy', rest);
  const named = target.waves ? waveRegions(target.waves) : target.regions;
  const build = await ctx.fleet.build(buildId);
  await ctx.permissions.check(request.user, 'deploy', build.service);
  const status = await ctx.fleet.status(build.service);
  const known = status.regions.map((r) => r.region);
  const unknown = (named ?? []).filter((r) => !known.includes(r));
  if (unknown.length > 0) throw new FleetcastError('INVALID_INPUT', `unknown region ${unknown.join(', ')}: the regions are ${known.join(', ')}`, { regions: unknown });
  const refusal = deployRefusal(build, named ?? known);
  if (refusal) throw refusal;
  if (status.lock) throw lockedRefusal(status.lock);
  const plan = newPlan({ kind: 'deploy', service: build.service, build: build.id, regions: target.regions ?? null, waves: target.waves ?? null, user: request.user.id }, ctx.now());
  await replyToAsker(request.respond, deployPreview(plan, build, status, ctx.now()));
};
