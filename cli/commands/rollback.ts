import type { Command } from 'commander';
import type { DeploymentJson } from '../../coordinator/api/index.ts';
import { apiClient, buildRef, clientCommand, wantsJson } from '../client-command.ts';
import { deploymentLine } from '../format/deploy-text.ts';
import { printResult } from '../output.ts';
import { regionsOption } from './regions-option.ts';

export function rollbackCommand(): Command {
  const command = clientCommand('rollback', 'roll a service back to the build deployed before (or --to) and lock it against deploys')
    .argument('<service>', 'service name')
    .option('--to <build>', 'the build to return to (default: the one deployed before the current one)')
    .option('--regions <a,b>', 'only these regions (comma-separated)')
    .option('--reason <text>', 'why, for the history')
    .action(async (service: string, options: { to?: string; regions?: string; reason?: string }) => {
      const body = {
        ...(options.to === undefined ? {} : { to: buildRef(options.to) }),
        ...regionsOption(options.regions),
        ...(options.reason === undefined ? {} : { reason: options.reason }),
      };
      const deployment = await apiClient(command).post<DeploymentJson>(`/v1/services/${encodeURIComponent(service)}/rollback`, body);
      printResult(wantsJson(command), deployment, () => `${deploymentLine(deployment)}\n${service} is locked; run fleetcast unlock ${service} to allow deploys again`);
    });
  return command;
}
