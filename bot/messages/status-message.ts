import type { StatusInfo } from '../fleet/fleet-json.ts';
import { ago, context, escape, section, type SlackMessage } from './blocks.ts';
import { lockLine } from './lock-messages.ts';

type RegionStatus = StatusInfo['regions'][number];

function regionLine(r: RegionStatus, now: number): string {
  return [goalLine(r, now), refusalLine(r), mirrorLine(r)].filter(Boolean).join('\n');
}

/** Machines refusing what their goal mirror holds (forged, unsigned, replayed): they keep their build, someone must look. */
function refusalLine(r: RegionStatus): string {
  const { refused } = r.convergence;
  if (refused.machines === 0) return '';
  const codes = Object.entries(refused.codes).map(([code, n]) => `${n} ${code}`).join(', ');
  const example = refused.examples[0];
  return `    :no_entry: ${refused.machines} ${refused.machines === 1 ? 'machine refused' : 'machines refused'} the document in the goal mirror (${codes}) and keep their build${example ? ` — e.g. ${example.machine}: ${escape(example.message.slice(0, 200))}` : ''}`;
}

function mirrorLine(r: RegionStatus): string {
  const mirror = r.mirror;
  if (!mirror || mirror.state === 'ok') return '';
  const repaired = mirror.lastRepair ? ` · recreated ${mirror.repairs}× by the coordinator${mirror.lastRepair.ok ? '' : ' (the last attempt failed)'}` : '';
  return `    :rotating_light: goal mirror *${mirror.state}*: ${escape(mirror.problem ?? '')}${repaired}`;
}

function goalLine(r: RegionStatus, now: number): string {
  if (r.goalError) {
    return r.goalError.code === 'GOAL_SIGNATURE_INVALID'
      ? `:rotating_light: *${r.region}*: the stored goal is not signed by a trusted key — ${escape(r.goalError.message)}`
      : `:rotating_light: *${r.region}*: the stored goal is malformed — ${escape(r.goalError.message)}`;
  }
  if (!r.goal) return `:heavy_minus_sign: *${r.region}*: no goal yet`;
  const goal = `*${r.region}*: ${r.goal.build} (${r.goal.deployment}, ${r.goal.kind} by ${escape(r.goal.by)}, ${ago(r.goal.at, now)})`;
  const c = r.convergence;
  if (!c.known) return `:grey_question: ${goal} — its machines' reports cannot be read now`;
  if (c.machines === 0) return `:white_check_mark: ${goal} — no machine reports yet`;
  const parts = [`${c.running}/${c.machines} running it`];
  if (c.holding > 0) parts.push(`${c.holding} holding it (cached)`);
  if (c.downloading.machines > 0) parts.push(`${c.downloading.machines} downloading`);
  if (c.failed.machines > 0) parts.push(`${c.failed.machines} failed`);
  if (c.silent > 0) parts.push(`${c.silent} silent`);
  if (c.mismatched > 0) parts.push(`${c.mismatched} report it with another digest or goal sequence (not counted)`);
  if (c.other > 0) parts.push(`${c.other} on another build`);
  const digest = digestText(r);
  if (digest) parts.push(digest);
  return `${c.converged ? ':white_check_mark:' : c.failed.machines > 0 ? ':warning:' : ':arrows_counterclockwise:'} ${goal} — ${parts.join(' · ')}`;
}

/** The digest the machines running the goal build report: the signed one (short), or each one with `≠ goal`. */
function digestText(r: RegionStatus): string {
  const c = r.convergence;
  const onGoal = c.runningDigests.filter((d) => d.build === c.goalBuild);
  if (onGoal.length === 0) return '';
  const short = (digest: string) => `\`${digest.slice(0, 12)}\``;
  if (onGoal.length === 1 && onGoal[0]!.digest === c.goalDigest) return `digest ${short(onGoal[0]!.digest)}`;
  return `:warning: digests reported: ${onGoal.map((d) => `${short(d.digest)} ×${d.machines}${d.digest === c.goalDigest ? ' (signed)' : ' ≠ goal'}`).join(', ')}`;
}

/** `/status api`: the goal of each region, how far its machines are, the newest deployment, and the lock. */
export function statusMessage(status: StatusInfo, now: number): SlackMessage {
  const lock = status.lock ? `:lock: ${lockLine(status.lock)}` : ':unlock: not locked';
  const d = status.deployment;
  const newest = d ? ` · newest: ${d.id} ${d.kind} of ${d.build} ${d.status}${d.waves.length > 1 ? ` (waves: ${d.waves.map((w) => `${w.regions.join(',')} ${w.status}`).join('; ')})` : ''}` : '';
  return {
    text: `${status.service}: ${status.regions.map((r) => `${r.region} ${r.goal?.build ?? '-'}`).join(', ')}${status.lock ? ' (locked)' : ''}`,
    blocks: [section(`*${status.service}*\n${status.regions.map((r) => regionLine(r, now)).join('\n')}`), context(`${lock}${newest}`)],
  };
}
