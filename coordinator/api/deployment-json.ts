import {
  waveJson,
  deploymentJson,
  deploymentListJson,
  lockJson,
  convergenceJson,
  deploymentProgressJson,
  serviceStatusJson,
  type WaveJson,
  type DeploymentJson,
  type DeploymentListJson,
  type LockJson,
  type ConvergenceJson,
  type DeploymentProgressJson,
  type ServiceStatusJson,
} from '../../api-contract/index.ts';
import type { DeploymentProgress, DeployOutcome, RegionConvergence, ServiceLock, ServiceStatus, Wave } from '../deploys/index.ts';

export {
  waveJson,
  deploymentJson,
  deploymentListJson,
  lockJson,
  convergenceJson,
  deploymentProgressJson,
  serviceStatusJson,
  type WaveJson,
  type DeploymentJson,
  type DeploymentListJson,
  type LockJson,
  type ConvergenceJson,
  type DeploymentProgressJson,
  type ServiceStatusJson,
};

function toWaveJson(wave: Wave): WaveJson {
  return { ...wave, writtenAt: wave.writtenAt?.toISOString() ?? null, doneAt: wave.doneAt?.toISOString() ?? null };
}

export function toDeploymentJson(deployment: DeployOutcome): DeploymentJson {
  return {
    ...deployment,
    createdAt: deployment.createdAt.toISOString(),
    waves: deployment.waves.map(toWaveJson),
    convergedAt: deployment.convergedAt?.toISOString() ?? null,
    spooled: deployment.spooled === true,
    replayed: deployment.replayed === true,
  };
}

export function toLockJson(lock: ServiceLock): LockJson {
  return { ...lock, since: lock.since.toISOString() };
}

export function toConvergenceJson(convergence: RegionConvergence): ConvergenceJson {
  return convergence;
}

export function toDeploymentProgressJson(progress: DeploymentProgress): DeploymentProgressJson {
  return { deployment: toDeploymentJson(progress.deployment), progress: progress.progress.map(toConvergenceJson), final: progress.final };
}

export function toServiceStatusJson(status: ServiceStatus): ServiceStatusJson {
  return {
    service: status.service,
    lock: status.lock ? toLockJson(status.lock) : null,
    regions: status.regions,
    deployment: status.deployment ? toDeploymentJson(status.deployment) : null,
    deployWaves: status.deployWaves,
  };
}
