import type { Command } from 'commander';
import type { DeploymentJson } from '../../api-contract/index.ts';
import { apiClient, buildRef, clientCommand } from '../client-command.ts';
import { addWaitOptions, finishDeployCommand, parseTimeout, type WaitOptions } from './deploy-wait.ts';
import { printPreview } from './print-preview.ts';
import { regionsOption } from './regions-option.ts';

interface RollbackOptions extends WaitOptions {
  to?: string;
  regions?: string;
  reason?: string;
  idempotencyKey?: string;
  dryRun?: boolean;
}

export function rollbackCommand(): Command {
  const command = clientCommand('rollback', 'roll a service back to the build deployed before (or --to), every region at once, and lock it against deploys')
    .argument('<service>', 'service name')
    .option('--to <build>', 'the build to return to (default: the one deployed before the current one)')
    .option('--regions <a,b>', 'only these regions (comma-separated)')
    .option('--reason <text>', 'why, for the history')
    .option('--dry-run', 'say what would happen (commits, current builds, waves, machines holding the build, refusals) and change nothing; exit code as the real request would get')
    .option('--idempotency-key <key>', 'a retry with the same key gets the same rollback back instead of a second one');
  addWaitOptions(command).action(async (service: string, options: RollbackOptions) => {
    parseTimeout(options.timeout);
    const body = {
      ...(options.to === undefined ? {} : { to: buildRef(options.to) }),
      ...regionsOption(options.regions),
      ...(options.reason === undefined ? {} : { reason: options.reason }),
    };
    const client = apiClient(command);
    if (options.dryRun) return printPreview(command, client, `/v1/services/${encodeURIComponent(service)}/rollback/preview`, body);
    const headers: Record<string, string> = options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey };
    const { body: deployment } = await client.json<DeploymentJson>('POST', `/v1/services/${encodeURIComponent(service)}/rollback`, body, headers);
    await finishDeployCommand(command, client, deployment, options, `\n${service} is locked; run fleetcast unlock ${service} to allow deploys again`);
  });
  return command;
}
