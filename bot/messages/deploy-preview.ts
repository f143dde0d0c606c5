import { formatBytes } from '../../config/index.ts';
import type { BuildInfo, StatusInfo } from '../fleet/fleet-json.ts';
import { encodePlan, planMaxAgeMs, type Plan } from '../plans/plan.ts';
import { mention } from '../slack/slack-user.ts';
import { actions, ago, button, context, escape, fields, header, section, shortCommit, type SlackMessage } from './blocks.ts';

export const confirmDeployAction = 'deploy_confirm';
export const cancelAction = 'plan_cancel';

/** The commit line of a build: sha, and its subject and author where the coordinator records them. */
export function commitLine(build: BuildInfo): string {
  const subject = build.commitSubject ? ` — _${escape(build.commitSubject)}_` : '';
  const author = build.commitAuthor ? ` by ${escape(build.commitAuthor)}` : '';
  return `\`${shortCommit(build.commit)}\`${subject}${author}`;
}

/** The waves the deploy will roll out in: the asker's, one wave of the regions named, or the coordinator's plan. */
function wavesLine(plan: Plan, status: StatusInfo): string {
  const waves = plan.waves ?? (plan.regions ? [plan.regions] : status.deployWaves);
  if (waves.length === 1) return `*One wave*: ${waves[0]!.join(', ')} at once`;
  return `*Waves*: ${waves.map((wave, i) => `${i + 1}. ${wave.join(', ')}`).join(' → ')} — each once the machines of the one before run the build`;
}

/** What a deploy will do, with Deploy / Cancel: shown only to the person who asked. */
export function deployPreview(plan: Plan, build: BuildInfo, status: StatusInfo, now: number): SlackMessage {
  const regions = (plan.waves ? [...new Set(plan.waves.flat().map((token) => token.split(':')[0]!))] : null) ?? plan.regions ?? status.regions.map((r) => r.region);
  const current = new Map(status.regions.map((r) => [r.region, r.goal]));
  const perRegion = regions.map((region) => {
    const goal = current.get(region);
    const from = goal ? (goal.build === build.id ? `${goal.build} (already)` : goal.build) : 'nothing yet';
    return `*${region}*: ${from} → *${build.id}*`;
  });
  const built = [
    build.requestedBy ? `built for ${escape(build.requestedBy)}` : 'built',
    build.finishedAt ? ago(build.finishedAt, now) : null,
    build.size !== null ? formatBytes(build.size) : null,
    regions.length < status.regions.length ? `to ${regions.length} of ${status.regions.length} regions` : `to all ${regions.length} regions`,
  ].filter(Boolean);
  return {
    text: `Deploy ${build.service} ${build.id} to ${regions.join(', ')}?`,
    blocks: [
      header(`Deploy ${build.service} ${build.id}?`),
      section(`*Commit* ${commitLine(build)}\n${built.join(' · ')}`),
      fields(perRegion),
      section(wavesLine(plan, status)),
      context(`Asked by ${mention(plan.user)} · this preview can be confirmed for ${planMaxAgeMs / 60_000} min`),
      actions(`plan-${plan.id}`, [button(confirmDeployAction, `Deploy ${build.id}`, encodePlan(plan), 'primary'), button(cancelAction, 'Cancel', encodePlan(plan))]),
    ],
  };
}
