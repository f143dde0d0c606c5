import { Command } from 'commander';
import type { DeploymentJson, DeploymentProgressJson } from '../../api-contract/index.ts';
import { apiClient, clientCommand, wantsJson } from '../client-command.ts';
import type { ApiClient } from '../../api-client/index.ts';
import { deploymentLine, progressLines, progressSummary } from '../format/deploy-text.ts';
import { followDeployment } from './follow-deployment.ts';
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
    .option('--follow', 'follow the rollout live (one line per region) until it is final: exit 0 if every region converged, 1 if it failed, was aborted, rolled back or superseded; with --json one JSON line per change')
    .action(async (id: string, options: { follow?: boolean }) => {
      const client = apiClient(command);
      if (options.follow) {
        await followCommand(client, id, wantsJson(command));
        return;
      }
      const progress = await client.get<DeploymentProgressJson>(`/v1/deployments/${encodeURIComponent(id)}/progress`);
      printResult(wantsJson(command), progress, () => showText(progress));
    });
  return command;
}

function showText(progress: DeploymentProgressJson): string {
  const d = progress.deployment;
  return [deploymentLine(d), ...(d.error ? [d.error] : []), ...(d.rollback ? [`rolled back by ${d.rollback}`] : []), ...progressLines(progress)].join('\n');
}

/** `show --follow`: anyone with a read token follows any rollout, whoever started it, as `deploy --wait` shows it. */
async function followCommand(client: ApiClient, id: string, json: boolean): Promise<void> {
  const final = await followDeployment(client, id, { display: json ? null : process.stdout, jsonLines: json });
  if (!json) {
    const d = final.deployment;
    process.stdout.write([progressSummary(final), ...(d.rollback ? [`rolled back by ${d.rollback}`] : [])].join('\n') + '\n');
  }
  if (!final.deployment.convergedAt) process.exitCode = 1;
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
