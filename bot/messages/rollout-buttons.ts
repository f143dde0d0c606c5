import type { types } from '@slack/bolt';
import type { DeploymentInfo } from '../fleet/fleet-json.ts';
import { actions, button } from './blocks.ts';

/** The buttons of a rollout in progress on its progress message, by the action they ask the coordinator for. */
export const rolloutActionIds = { pause: 'rollout_pause', resume: 'rollout_resume', promote: 'rollout_promote', abort: 'rollout_abort' } as const;
export type RolloutAction = keyof typeof rolloutActionIds;

/** What a button carries: the deployment, its service (for the permission check) and, for promote, the gate it skips. */
export interface RolloutTarget {
  deployment: string;
  service: string;
  wave?: number | undefined;
}

export function encodeRolloutTarget(target: RolloutTarget): string {
  return JSON.stringify({ d: target.deployment, s: target.service, ...(target.wave === undefined ? {} : { w: target.wave }) });
}

export function decodeRolloutTarget(value: string): RolloutTarget {
  const raw = JSON.parse(value) as { d: unknown; s: unknown; w?: unknown };
  if (typeof raw.d !== 'string' || typeof raw.s !== 'string' || (raw.w !== undefined && typeof raw.w !== 'number')) throw new Error('not a rollout button value');
  return { deployment: raw.d, service: raw.s, ...(typeof raw.w === 'number' ? { wave: raw.w } : {}) };
}

/**
 * Pause or Resume, Promote (past the gate being judged, named so a double click does not skip
 * two), and Abort, while a deploy rolls out in waves; nothing once it has ended or for a rollback.
 */
export function rolloutButtons(d: DeploymentInfo): types.ActionsBlock | null {
  if (d.kind !== 'deploy' || (d.status !== 'ROLLING' && d.status !== 'PAUSED')) return null;
  const target = { deployment: d.id, service: d.service };
  const next = d.waves.findIndex((w) => w.status === 'PENDING');
  const buttons = [
    d.status === 'PAUSED' ? button(rolloutActionIds.resume, 'Resume', encodeRolloutTarget(target), 'primary') : button(rolloutActionIds.pause, 'Pause', encodeRolloutTarget(target)),
    ...(next > 0 ? [button(rolloutActionIds.promote, `Promote past wave ${next}`, encodeRolloutTarget({ ...target, wave: next }))] : []),
    button(rolloutActionIds.abort, 'Abort and roll back', encodeRolloutTarget(target), 'danger'),
  ];
  return actions(`rollout-${d.id}`, buttons);
}
