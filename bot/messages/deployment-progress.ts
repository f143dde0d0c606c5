import { formatBytes } from '../../config/index.ts';
import type { DeploymentInfo, RegionProgress } from '../fleet/fleet-json.ts';
import { mention } from '../slack/slack-user.ts';
import { context, escape, section, type SlackMessage } from './blocks.ts';

/** What the one progress message of a deploy or rollback shows. */
export interface ProgressView {
  deployment: DeploymentInfo;
  /** The Slack user who confirmed. */
  confirmedBy: string;
  /** Per region, from the coordinator's deployment events; null: it reports no fleet progress. */
  progress: RegionProgress[] | null;
  final: boolean;
  /** Why the bot stopped following before the end, if it did. */
  lostTrack?: string | undefined;
}

function regionLine(p: RegionProgress): string {
  if (p.machines === 0) return `:hourglass_flowing_sand: *${p.region}* no machine reports yet`;
  const icon = p.converged ? ':white_check_mark:' : p.failed.machines > 0 ? ':warning:' : ':arrows_counterclockwise:';
  const parts = [`${p.running}/${p.machines} running ${p.goalBuild ?? ''}`.trim()];
  if (p.downloading.machines > 0) {
    const bytes = p.downloading.total > 0 ? ` (${formatBytes(p.downloading.bytes)} of ${formatBytes(p.downloading.total)})` : '';
    parts.push(`${p.downloading.machines} downloading${bytes}`);
  }
  if (p.failed.machines > 0) parts.push(`${p.failed.machines} failed`);
  if (p.silent > 0) parts.push(`${p.silent} silent`);
  if (p.other > 0) parts.push(`${p.other} elsewhere`);
  const examples = p.failed.examples.slice(0, 3).map((e) => `\n      \`${escape(e.machine)}\`: ${escape(e.error ?? 'failed')}`);
  return `${icon} *${p.region}* ${parts.join(' · ')}${examples.join('')}`;
}

function title(view: ProgressView): { icon: string; text: string } {
  const d = view.deployment;
  const what = d.kind === 'rollback' ? `Rolling back ${d.service} to ${d.build}` : `Deploying ${d.service} ${d.build}`;
  if (d.status === 'FAILED') return { icon: ':x:', text: `${d.kind === 'rollback' ? 'Rollback' : 'Deploy'} of ${d.service} ${d.build} failed (${d.id})` };
  if (!view.final) return { icon: ':rocket:', text: `${what} (${d.id})` };
  const converged = view.progress?.every((p) => p.converged) ?? false;
  if (converged) return { icon: ':white_check_mark:', text: `${d.service} ${d.build} runs in ${d.regions.join(', ')} (${d.id}${d.kind === 'rollback' ? ', rolled back' : ''})` };
  if (view.progress === null) return { icon: ':white_check_mark:', text: `${d.kind === 'rollback' ? 'Rolled back' : 'Deployed'} ${d.service} to ${d.build} in ${d.regions.join(', ')} (${d.id})` };
  return { icon: ':warning:', text: `${what}: ended without every machine on ${d.build} (${d.id})` };
}

/** The progress of a deploy or rollback, region by region; the same message is updated until the end. */
export function progressMessage(view: ProgressView): SlackMessage {
  const d = view.deployment;
  const heading = title(view);
  const blocks: SlackMessage['blocks'] = [section(`${heading.icon} *${heading.text}*\nconfirmed by ${mention(view.confirmedBy)} · ${d.regions.length} region${d.regions.length === 1 ? '' : 's'}`)];
  if (d.error) blocks.push(section(`*Error*: ${escape(d.error)}`));
  if (d.waves && d.waves.length > 1) blocks.push(context(`Waves: ${d.waves.map((w, i) => `${i + 1}. ${w.regions.join(', ')} (${w.status.toLowerCase()})`).join(' · ')}`));
  if (view.progress && view.progress.length > 0) blocks.push(section(view.progress.map(regionLine).join('\n')));
  else if (view.progress === null && d.status !== 'FAILED') blocks.push(section(`Goal ${d.status === 'APPLIED' ? 'written' : 'being written'} in ${d.regions.join(', ')}; machines pick it up from their region.`));
  const notes: string[] = [];
  if (d.kind === 'rollback') notes.push(`${d.service} is locked until \`/unlock ${d.service}\``);
  if (d.spooled) notes.push("the coordinator's database is down: this is recorded there once it is back");
  if (view.progress === null && view.final && d.status !== 'FAILED') notes.push(`this coordinator reports no fleet progress; \`/status ${d.service}\` shows the goals`);
  if (view.lostTrack) notes.push(`no longer following: ${escape(view.lostTrack)}; \`/status ${d.service}\` shows where it stands`);
  if (notes.length > 0) blocks.push(context(notes.join(' · ')));
  return { text: heading.text, blocks };
}
