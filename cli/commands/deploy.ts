import type { Command } from 'commander';
import type { DeploymentJson } from '../../coordinator/api/index.ts';
import { apiClient, buildRef, clientCommand, wantsJson } from '../client-command.ts';
import { deploymentLine } from '../format/deploy-text.ts';
import { printResult } from '../output.ts';
import { regionsOption } from './regions-option.ts';

export function deployCommand(): Command {
  const command = clientCommand('deploy', 'deploy a build: set the goal of its service in every region (exit 3 if not deployable or locked)')
    .argument('<build>', 'build id, e.g. b42')
    .option('--regions <a,b>', 'only these regions (comma-separated)')
    .option('--reason <text>', 'why, for the history')
    .action(async (id: string, options: { regions?: string; reason?: string }) => {
      const body = { build: buildRef(id), ...regionsOption(options.regions), ...(options.reason === undefined ? {} : { reason: options.reason }) };
      const deployment = await apiClient(command).post<DeploymentJson>('/v1/deployments', body);
      printResult(wantsJson(command), deployment, () => deploymentLine(deployment));
    });
  return command;
}
