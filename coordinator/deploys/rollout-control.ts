import { FleetcastError } from '../../errors/index.ts';
import type { Deployment, DeploymentStatus } from './deployment.ts';
import type { Wave } from './waves.ts';

/** What a person can do to a rollout in progress (`fleetcast deployment pause|resume|promote|abort D`). */
export const controlActions = ['pause', 'resume', 'promote', 'abort'] as const;
export type ControlAction = (typeof controlActions)[number];

export interface ControlRequest {
  by: string;
  reason?: string | undefined;
  /** promote: the wave whose gate to skip (1-based); a retry naming a gate already passed changes nothing. @defaultValue the current gate */
  wave?: number | undefined;
}

/** The deployment's new state; `undo`: its written regions must be rolled back (abort). */
export interface ControlChange {
  status: DeploymentStatus;
  waves: Wave[];
  error: string | null;
  undo: boolean;
}

const inProgress: DeploymentStatus[] = ['ROLLING', 'PAUSED'];

/**
 * The change an action makes to a deployment, or null when it is already in effect (so a retry
 * is harmless). Pause holds the next wave; resume lets it go; promote skips the current gate (the
 * wave being judged counts as converged, the soak after it is over) so the runner writes the next
 * wave at once; abort stops the rollout (later waves skipped) and has its written regions rolled
 * back. A deployment that is not in progress cannot be changed (CONFLICT).
 */
export function controlChange(deployment: Deployment, action: ControlAction, request: ControlRequest, now: Date): ControlChange | null {
  const { status } = deployment;
  if (action === 'pause' && status === 'PAUSED') return null;
  if (action === 'resume' && status === 'ROLLING') return null;
  if (action === 'abort' && status === 'ABORTED') return null;
  if (!inProgress.includes(status)) {
    throw new FleetcastError(
      'CONFLICT',
      `${deployment.id} is ${status}: only a rollout in progress (ROLLING or PAUSED) can be ${action === 'abort' ? 'aborted' : `${action}d`}${status === 'WRITING' ? '; try again in a moment' : ''}`,
      { deployment: deployment.id, status },
    );
  }
  const waves = deployment.waves.map((wave) => ({ ...wave }));
  switch (action) {
    case 'pause':
      return { status: 'PAUSED', waves, error: null, undo: false };
    case 'resume':
      return { status: 'ROLLING', waves, error: null, undo: false };
    case 'promote':
      return promote(deployment, waves, request, now);
    case 'abort':
      for (const wave of waves) if (wave.status === 'PENDING') wave.status = 'SKIPPED';
      return { status: 'ABORTED', waves, error: `aborted by ${request.by}${request.reason ? `: ${request.reason}` : ''}; rolling back`, undo: true };
  }
}

function promote(deployment: Deployment, waves: Wave[], request: ControlRequest, now: Date): ControlChange | null {
  const next = waves.findIndex((wave) => wave.status === 'PENDING');
  const gate = request.wave === undefined ? next - 1 : request.wave - 1;
  if (request.wave !== undefined && (gate < 0 || gate >= waves.length)) {
    throw new FleetcastError('INVALID_INPUT', `${deployment.id} has waves 1 to ${waves.length}; there is no wave ${request.wave}`, { deployment: deployment.id });
  }
  // Named a gate already passed (a retry): nothing to do.
  if (request.wave !== undefined && (next < 0 || gate < next - 1)) return null;
  if (next < 0) throw new FleetcastError('CONFLICT', `every wave of ${deployment.id} is written: there is no gate left to skip`, { deployment: deployment.id });
  if (gate >= next) throw new FleetcastError('CONFLICT', `wave ${gate + 1} of ${deployment.id} is not written yet: promote the wave before it first`, { deployment: deployment.id });
  const wave = waves[gate]!;
  if (wave.promotedBy) return null;
  waves[gate] = { ...wave, status: 'CONVERGED', doneAt: wave.doneAt ?? now, promotedBy: request.by };
  return { status: 'ROLLING', waves, error: null, undo: false };
}
