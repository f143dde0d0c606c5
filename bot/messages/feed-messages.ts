// Announcements of what happened without the bot (CLI, API, continuous deploy, the coordinator
// itself), from the coordinator's announcement feed: one line each, in the service's channel.
import type { AuditEntryJson } from '../../api-contract/index.ts';
import type { BuildInfo, DeploymentEvent } from '../fleet/fleet-json.ts';
import { commitLine } from './deploy-preview.ts';
import { context, escape, section, type SlackMessage } from './blocks.ts';

/** `local-admin (CLI/API)`, `continuous deploy`, `fleetcast` (the coordinator by itself). */
function who(actor: string): string {
  if (actor === 'continuous-deploy') return 'continuous deploy';
  if (actor === 'fleetcast') return 'fleetcast (automatically)';
  return `\`${escape(actor)}\``;
}

const text = (value: unknown): string => (typeof value === 'string' ? escape(value) : '');

/** The message for an audit entry of the feed; null for entries not worth a message (a refused deploy). */
export function feedMessage(entry: AuditEntryJson): SlackMessage | null {
  const d = entry.detail;
  const service = `*${escape(entry.target === '*' ? 'every service' : entry.target)}*`;
  const reason = text(d.reason) ? ` — ${text(d.reason)}` : '';
  let line: string | null = null;
  if (entry.action === 'continuous-deploy') {
    // Its deploy row (by continuous-deploy) announces it, unless a build was passed over on the way.
    if (d.state === 'deployed' && typeof d.passedOver !== 'string') return null;
    const icon = d.state === 'deployed' ? ':rocket:' : d.state === 'waiting' ? ':hourglass_flowing_sand:' : ':fast_forward:';
    const verb = d.state === 'deployed' ? `deploying ${text(d.build)} (${text(d.deployment)})` : d.state === 'waiting' ? `${text(d.build)} waits` : `${text(d.build)} skipped`;
    const passed = typeof d.passedOver === 'string' ? ` (${escape(d.passedOver)} passed over: a newer build came)` : '';
    line = `${icon} Continuous deploy of ${service}: ${verb}${passed}${d.state === 'deployed' ? '' : `: ${text(d.reason)}`}`;
  } else if (entry.result !== 'ok') {
    return null;
  } else if (entry.action === 'deploy') {
    line = `:rocket: ${who(entry.actor)} started deploying ${text(d.build)} of ${service} (${text(d.deployment)})${reason}${typeof d.overrideFreeze === 'string' ? `\n:snowflake: inside a freeze, overridden: ${escape(d.overrideFreeze)}` : ''}`;
  } else if (entry.action === 'rollback') {
    line = `:rewind: ${who(entry.actor)} rolled ${service} back to ${text(d.build)} (${text(d.deployment)})${reason}; ${service} is locked`;
  } else if (['pause', 'resume', 'promote', 'abort'].includes(entry.action)) {
    line = `:control_knobs: ${who(entry.actor)} ${entry.action === 'abort' ? 'aborted' : `${entry.action}d`} ${text(d.deployment)} of ${service}${reason}`;
  } else if (entry.action === 'lock') {
    line = `:lock: ${who(entry.actor)} locked ${service}${reason}`;
  } else if (entry.action === 'unlock') {
    line = `:unlock: ${who(entry.actor)} unlocked ${service}`;
  } else if (entry.action === 'freeze-add') {
    const when = typeof d.weekly === 'string' ? `every week ${escape(d.weekly)} (${text(d.timeZone)})` : `until ${text(d.until)}`;
    line = `:snowflake: ${who(entry.actor)} froze deploys of ${service} ${when} (${text(d.freeze)})${reason}; rollbacks are still allowed`;
  } else if (entry.action === 'freeze-remove') {
    line = `:sunny: ${who(entry.actor)} removed freeze ${text(d.freeze)} of ${service}`;
  }
  if (line === null) return null;
  return { text: line.replace(/[*`]/g, ''), blocks: [section(line)] };
}

/** The end of a deploy or rollback the bot did not start: converged, or halted with the reason. */
export function deploymentEndMessage(event: DeploymentEvent): SlackMessage {
  const d = event.deployment;
  const ok = d.status === 'CONVERGED';
  const icon = ok ? ':white_check_mark:' : d.status === 'SUPERSEDED' ? ':fast_forward:' : ':rotating_light:';
  const failedWave = d.waves.findIndex((w) => w.status === 'FAILED');
  const wave = failedWave >= 0 ? ` (wave ${failedWave + 1}: ${d.waves[failedWave]!.regions.join(', ')})` : '';
  const line = `${icon} ${d.kind === 'rollback' ? 'Rollback' : 'Deploy'} ${d.id} of *${escape(d.service)}* to ${d.build} ${d.status}${wave}`;
  const blocks: SlackMessage['blocks'] = [section(line)];
  if (d.error) blocks.push(section(`*Why*: ${escape(d.error)}`));
  if (!ok && d.status !== 'SUPERSEDED') blocks.push(context(`\`/status ${d.service}\` shows where the machines are`));
  return { text: line.replace(/[*`]/g, ''), blocks };
}

/** A build that failed without anyone in Slack waiting for it (a push, the CLI). */
export function buildFailedMessage(build: BuildInfo): SlackMessage {
  const line = `:x: *${build.id}* of *${escape(build.service)}* FAILED — ${commitLine(build)}\n${escape(build.failureReason ?? 'no reason recorded')}`;
  return { text: `${build.id} of ${build.service} FAILED`, blocks: [section(line)] };
}
