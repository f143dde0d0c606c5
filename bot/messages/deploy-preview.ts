import { formatBytes } from '../../config/index.ts';
import type { BuildInfo, DeployPreviewInfo } from '../fleet/fleet-json.ts';
import { encodePlan, planMaxAgeMs, type Plan } from '../plans/plan.ts';
import { mention } from '../slack/slack-user.ts';
import { commitLines } from './commit-lines.ts';
import { actions, ago, button, context, escape, fields, header, section, shortCommit, type SlackMessage } from './blocks.ts';

export const confirmDeployAction = 'deploy_confirm';
export const cancelAction = 'plan_cancel';

/** The commit line of a build: sha, and its subject and author where the coordinator records them. */
export function commitLine(build: BuildInfo): string {
  const subject = build.commitSubject ? ` — _${escape(build.commitSubject)}_` : '';
  const author = build.commitAuthor ? ` by ${escape(build.commitAuthor)}` : '';
  return `\`${shortCommit(build.commit)}\`${subject}${author}`;
}

/** The waves the deploy will roll out in, as the coordinator planned them (the asker's, one wave of the regions named, or its default plan). */
function wavesLine(waves: string[][]): string {
  if (waves.length === 1) return `*One wave*: ${waves[0]!.join(', ')} at once`;
  return `*Waves*: ${waves.map((wave, i) => `${i + 1}. ${wave.join(', ')}`).join(' → ')} — each once the machines of the one before run the build`;
}

/**
 * What a deploy will do, as the coordinator previewed it (commits, what each region runs, the
 * waves, machines already holding the build), with Deploy / Cancel: shown only to the person who asked.
 */
export function deployPreview(plan: Plan, preview: DeployPreviewInfo, now: number): SlackMessage {
  const build = preview.build;
  // A region may be in two waves (a share of it, then all of it): named once.
  const regions = [...new Set(preview.waves.flat().map((token) => token.split(':')[0]!))];
  const configured = build.replication?.length ?? regions.length;
  const perRegion = preview.regions.map((r) => {
    const from = r.current ? (r.current.build === build.id ? `${r.current.build} (already)` : r.current.build) : 'nothing yet';
    const cached = r.holding > 0 ? ` (${r.holding} of ${r.machines - r.silent} machines hold it)` : '';
    return `*${r.region}*: ${from} → *${build.id}*${cached}`;
  });
  const built = [
    build.requestedBy ? `built for ${escape(build.requestedBy)}` : 'built',
    build.finishedAt ? ago(build.finishedAt, now) : null,
    build.size !== null ? formatBytes(build.size) : null,
    regions.length < configured ? `to ${regions.length} of ${configured} regions` : `to all ${regions.length} regions`,
  ].filter(Boolean);
  return {
    text: `Deploy ${build.service} ${build.id} to ${regions.join(', ')}?`,
    blocks: [
      header(`Deploy ${build.service} ${build.id}?`),
      section(`*Commit* ${commitLine(build)}\n${built.join(' · ')}`),
      fields(perRegion),
      section(commitLines(preview)),
      section(wavesLine(preview.waves)),
      context(`Asked by ${mention(plan.user)} · this preview can be confirmed for ${planMaxAgeMs / 60_000} min`),
      actions(`plan-${plan.id}`, [button(confirmDeployAction, `Deploy ${build.id}`, encodePlan(plan), 'primary'), button(cancelAction, 'Cancel', encodePlan(plan))]),
    ],
  };
}
