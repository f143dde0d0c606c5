import type { StatusInfo } from '../fleet/fleet-json.ts';
import { ago, context, escape, section, type SlackMessage } from './blocks.ts';
import { lockLine } from './lock-messages.ts';

/** `/status api`: the goal of each region, how far its machines are, and the lock. */
export function statusMessage(status: StatusInfo, now: number): SlackMessage {
  const lines = status.regions.map((r) => {
    if (!r.goal) return `*${r.region}*: no goal yet`;
    const goal = `*${r.region}*: ${r.goal.build} (${r.goal.deployment}, ${r.goal.kind} by ${escape(r.goal.by)}, ${ago(r.goal.at, now)})`;
    const c = r.convergence;
    if (!c) return goal;
    const parts = [`${c.running}/${c.machines} running it`];
    if (c.downloading.machines > 0) parts.push(`${c.downloading.machines} downloading`);
    if (c.failed.machines > 0) parts.push(`${c.failed.machines} failed`);
    if (c.silent > 0) parts.push(`${c.silent} silent`);
    return `${c.converged ? ':white_check_mark:' : ':arrows_counterclockwise:'} ${goal} — ${parts.join(' · ')}`;
  });
  const lock = status.lock ? `:lock: ${lockLine(status.lock)}` : ':unlock: not locked';
  return {
    text: `${status.service}: ${status.regions.map((r) => `${r.region} ${r.goal?.build ?? '-'}`).join(', ')}${status.lock ? ' (locked)' : ''}`,
    blocks: [section(`*${status.service}*\n${lines.join('\n')}`), context(lock)],
  };
}
