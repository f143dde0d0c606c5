import type { Command } from 'commander';
import type { BuildJson } from '../../api-contract/index.ts';
import { apiClient, buildRef, clientCommand, wantsJson } from '../client-command.ts';
import { deployability } from '../format/build-text.ts';
import { printResult } from '../output.ts';

export function replicateCommand(): Command {
  const command = clientCommand('replicate', 'copy a build again into the regions where its copy FAILED')
    .argument('<build>', 'build id, e.g. b42')
    .option('--region <region>', 'only this region')
    .action(async (id: string, options: { region?: string }) => {
      const query = options.region === undefined ? '' : `?region=${encodeURIComponent(options.region)}`;
      const build = await apiClient(command).post<BuildJson & { retried: number }>(`/v1/builds/${encodeURIComponent(buildRef(id))}/replicate${query}`);
      printResult(wantsJson(command), build, () =>
        build.retried === 0
          ? `${build.id}: no FAILED copy to retry${options.region ? ` in ${options.region}` : ''} (deployable: ${deployability(build)})`
          : `${build.id}: ${build.retried} cop${build.retried === 1 ? 'y' : 'ies'} queued again; follow with: fleetcast show ${build.id}`,
      );
    });
  return command;
}
