import type { Command } from 'commander';
import type { BuildJson } from '../../api-contract/index.ts';
import { apiClient, buildRef, clientCommand, wantsJson } from '../client-command.ts';
import { buildDetails } from '../format/build-text.ts';
import { printResult } from '../output.ts';

export function showCommand(): Command {
  const command = clientCommand('show', 'show a build: status, timings, digest, size')
    .argument('<build>', 'build id, e.g. b42')
    .action(async (id: string) => {
      const build = await apiClient(command).get<BuildJson>(`/v1/builds/${encodeURIComponent(buildRef(id))}`);
      printResult(wantsJson(command), build, () => buildDetails(build));
    });
  return command;
}
