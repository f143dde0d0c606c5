import { Command } from 'commander';
import type { DeploymentJson, DeploymentProgressJson } from '../../api-contract/index.ts';
import { apiClient, clientCommand, wantsJson } from '../client-command.ts';
import { deploymentLine, progressLines } from '../format/deploy-text.ts';
import { printResult } from '../output.ts';

const controls = {
  pause: 'hold the next wave until resumed or promoted (the wave written is still judged)',
  resume: 'let a paused rollout write its next wave once the current one has converged',
  promote: 'skip the current gate: write the next wave now, without waiting for convergence or the soak',
  abort: 'stop the rollout and roll the regions already written back to the build they ran before (the service is locked)',
} as const;

function controlCommand(action: keyof typeof controls): Command {
  const command = clientCommand(action, controls[action])
    .argument('<deployment>', 'deployment id, e.g. d7')
    .option('--reason <text>', 'why (kept in the audit log; an abort also puts it in the lock)');
  if (action === 'promote') command.option('--wave <n>', 'the wave whose gate to skip (1-based); a retry then does not skip the next one too');
  command.action(async (id: string, options: { reason?: string; wave?: string }) => {
    const body = { ...(options.reason === undefined ? {} : { reason: options.reason }), ...(options.wave === undefined ? {} : { wave: Number(options.wave) }) };
    const deployment = await apiClient(command).post<DeploymentJson>(`/v1/deployments/${encodeURIComponent(id)}/${action}`, body);
    printResult(wantsJson(command), deployment, () => `${deploymentLine(deployment)}${deployment.error ? `\n${deployment.error}` : ''}`);
  });
  return command;
}

function showCommand(): Command {
  const command = clientCommand('show', 'one deployment: its status, waves, error, and per region where the machines stand')
    .argument('<deployment>', 'deployment id, e.g. d7')
    .action(async (id: string) => {
      const progress = await apiClient(command).get<DeploymentProgressJson>(`/v1/deployments/${encodeURIComponent(id)}/progress`);
      const d = progress.deployment;
      printResult(wantsJson(command), progress, () =>
        [deploymentLine(d), ...(d.error ? [d.error] : []), ...(d.rollback ? [`rolled back by ${d.rollback}`] : []), ...progressLines(progress)].join('\n'),
      );
    });
  return command;
}

/** `fleetcast deployment show|pause|resume|promote|abort D`. */
export function deploymentCommand(): Command {
  return new Command('deployment')
    .description('follow and control one rollout (show, pause, resume, promote, abort)')
    .addCommand(showCommand())
    .addCommand(controlCommand('pause'))
    .addCommand(controlCommand('resume'))
    .addCommand(controlCommand('promote'))
    .addCommand(controlCommand('abort'));
}
