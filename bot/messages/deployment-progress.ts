import { formatBytes, formatDuration } from '../../config/index.ts';
import type { DeploymentInfo, RegionProgress, Wave } from '../fleet/fleet-json.ts';
import { mention } from '../slack/slack-user.ts';
import { context, escape, section, type SlackMessage } from './blocks.ts';
import { rolloutButtons } from './rollout-buttons.ts';

/** What the one progress message of a deploy or rollback shows. */
export interface ProgressView {
  deployment: DeploymentInfo;
  /** The Slack user who confirmed. */
  confirmedBy: string;
  /** Per region, from the coordinator's deployment events; null: none to be had (its database is down, or it is older). */
  progress: RegionProgress[] | null;
  final: boolean;
  /** Why the bot stopped following before the end, if it did. */
  lostTrack?: string | undefined;
}

const waveIcons: Record<Wave['status'], string> = {
  PENDING: ':double_vertical_bar:',
  WRITTEN: ':arrows_counterclockwise:',
  CONVERGED: ':white_check_mark:',
  FAILED: ':x:',
  SKIPPED: ':heavy_minus_sign:',
};

function regionLine(p: RegionProgress, wave: Wave | undefined): string {
  if (wave?.status === 'PENDING') return `${waveIcons.PENDING} *${p.region}* waits for the wave before it`;
  if (wave?.status === 'SKIPPED') return `${waveIcons.SKIPPED} *${p.region}* not deployed: the rollout stopped before its wave`;
  if (!p.known) return `:grey_question: *${p.region}* its machines' reports cannot be read now (its leaf, or the hub link, is down)`;
  if (p.machines === 0) return `:white_check_mark: *${p.region}* no machine runs ${p.service} here`;
  const icon = p.converged ? ':white_check_mark:' : p.failed.machines > 0 ? ':warning:' : ':arrows_counterclockwise:';
  const parts = [`${p.running}/${p.machines} running ${p.goalBuild ?? ''}`.trim() + (p.goalShare ? ` (canary: the machines in ${p.goalShare} % of ${p.region})` : '')];
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
  const what = d.kind === 'rollback' ? `Rollback of ${d.service} to ${d.build}` : `Deploy of ${d.service} ${d.build}`;
  const rolledBack = d.rollback === 'pending' ? '; rolling back' : d.rollback ? `; rolled back (${d.rollback})` : '';
  if (d.status === 'FAILED') return { icon: ':x:', text: `${what} failed (${d.id})${rolledBack}` };
  if (d.status === 'ABORTED') return { icon: ':octagonal_sign:', text: `${what} was aborted (${d.id})${rolledBack}` };
  if (d.status === 'ROLLED_BACK') return { icon: ':rewind:', text: `${what} was rolled back (${d.id})` };
  if (d.status === 'PAUSED') return { icon: ':double_vertical_bar:', text: `${what} is paused: the next wave waits for resume or promote (${d.id})` };
  if (d.status === 'SUPERSEDED') return { icon: ':fast_forward:', text: `${what} was superseded by a newer deployment (${d.id})` };
  if (!view.final) return { icon: ':rocket:', text: `${d.kind === 'rollback' ? `Rolling back ${d.service} to ${d.build}` : `Deploying ${d.service} ${d.build}`} (${d.id})` };
  if (d.convergedAt !== null) return { icon: ':white_check_mark:', text: `${d.service} ${d.build} runs in ${d.regions.join(', ')} (${d.id}${d.kind === 'rollback' ? ', rolled back' : ''})` };
  if (view.progress === null) return { icon: ':white_check_mark:', text: `${d.kind === 'rollback' ? 'Rolled back' : 'Deployed'} ${d.service} to ${d.build} in ${d.regions.join(', ')} (${d.id})` };
  return { icon: ':warning:', text: `${what} ended without every machine on ${d.build} (${d.id})` };
}

/** A wave whose machines converged and whose metric gate holds: the last values against the rule. */
function gateLine(index: number, wave: Wave): string {
  const gate = wave.gate!;
  const values = Object.entries(gate.values).map(([region, value]) => `${region} ${value ?? 'no value yet'}`).join(', ') || 'not read yet';
  return `:hourglass: Wave ${index + 1} converged; its metric gate holds for ${formatDuration(gate.holdMs)} (at most ${gate.max}): ${escape(values)}`;
}

function wavesLine(waves: Wave[]): string {
  return `Waves: ${waves.map((w, i) => `${waveIcons[w.status]} ${i + 1}. ${w.regions.map((r) => (w.shares?.[r] ? `${r} ${w.shares[r]} %` : r)).join(', ')}`).join('  ')}`;
}

/** The progress of a deploy or rollback, region by region; the same message is updated until the end. */
export function progressMessage(view: ProgressView): SlackMessage {
  const d = view.deployment;
  const heading = title(view);
  const blocks: SlackMessage['blocks'] = [section(`${heading.icon} *${heading.text}*\nconfirmed by ${mention(view.confirmedBy)} · ${d.regions.length} region${d.regions.length === 1 ? '' : 's'}`)];
  if (d.error) blocks.push(section(`*Why*: ${escape(d.error)}`));
  if (d.waves.length > 1) blocks.push(context(wavesLine(d.waves)));
  const holding = d.waves.findIndex((w) => w.gate?.status === 'HOLDING' && w.status === 'WRITTEN');
  if (holding >= 0) blocks.push(context(gateLine(holding, d.waves[holding]!)));
  // A region may be in two waves (a share of it, then all of it): the last one written speaks for it.
  const waveOf = (region: string) => [...d.waves].reverse().find((w) => w.regions.includes(region) && w.status !== 'PENDING' && w.status !== 'SKIPPED') ?? d.waves.find((w) => w.regions.includes(region));
  if (view.progress && view.progress.length > 0) blocks.push(section(view.progress.map((p) => regionLine(p, waveOf(p.region))).join('\n')));
  else if (view.progress === null && d.status !== 'FAILED') blocks.push(section(`Goal ${d.status === 'WRITING' && !d.spooled ? 'being written' : 'written'} in ${d.regions.join(', ')}; machines pick it up from their region.`));
  const notes: string[] = [];
  if (d.kind === 'rollback') notes.push(`${d.service} is locked until \`/unlock ${d.service}\``);
  if (d.spooled) notes.push("the coordinator's database is down: this is recorded there once it is back");
  if (view.progress === null && view.final && d.status !== 'FAILED') notes.push(`\`/status ${d.service}\` shows where the machines are`);
  if (view.lostTrack) notes.push(`no longer following: ${escape(view.lostTrack)}; \`/status ${d.service}\` shows where it stands`);
  if (notes.length > 0) blocks.push(context(notes.join(' · ')));
  const buttons = view.final ? null : rolloutButtons(d);
  if (buttons) blocks.push(buttons);
  return { text: heading.text, blocks };
}
