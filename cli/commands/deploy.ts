import type { Command } from 'commander';
import type { DeploymentJson } from '../../api-contract/index.ts';
import { apiClient, buildRef, clientCommand } from '../client-command.ts';
import { addWaitOptions, finishDeployCommand, parseTimeout, type WaitOptions } from './deploy-wait.ts';
import { printPreview } from './print-preview.ts';
import { regionsOption } from './regions-option.ts';

interface DeployOptions extends WaitOptions {
  regions?: string;
  waves?: string;
  reason?: string;
  idempotencyKey?: string;
  dryRun?: boolean;
  overrideFreeze?: string;
}

export function deployCommand(): Command {
  const command = clientCommand('deploy', 'deploy a build: set the goal of its service, wave by wave (exit 3 if not deployable, locked, frozen, its pre-deploy check failed, or forbidden)')
    .argument('<build>', 'build id, e.g. b42')
    .option('--regions <a,b>', 'only these regions, all at once (comma-separated)')
    .option('--waves <a;b,c>', 'these waves instead of the default plan, e.g. "eu;us,ap", or "eu:1%;eu;us,ap" to start with the machines in 1 % of eu')
    .option('--reason <text>', 'why, for the history')
    .option('--dry-run', 'say what would happen (commits, current builds, waves, machines holding the build, refusals) and change nothing; exit code as the real request would get')
    .option('--override-freeze <reason>', 'admin only: deploy inside a freeze window, for this reason (audited)')
    .option('--idempotency-key <key>', 'a retry with the same key gets the same deployment back instead of a second one');
  addWaitOptions(command).action(async (id: string, options: DeployOptions) => {
    parseTimeout(options.timeout);
    const body = {
      build: buildRef(id),
      ...regionsOption(options.regions),
      ...(options.waves === undefined ? {} : { waves: options.waves.split(';').map((wave) => wave.split(',').map((r) => r.trim()).filter(Boolean)) }),
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      ...(options.overrideFreeze === undefined ? {} : { overrideFreeze: options.overrideFreeze }),
    };
    const client = apiClient(command);
    if (options.dryRun) return printPreview(command, client, '/v1/deployments/preview', body);
    const headers: Record<string, string> = options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey };
    const { body: deployment } = await client.json<DeploymentJson>('POST', '/v1/deployments', body, headers);
    await finishDeployCommand(command, client, deployment, options);
  });
  return command;
}
