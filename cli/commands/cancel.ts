import type { Command } from 'commander';
import type { BuildJson } from '../../api-contract/index.ts';
import { apiClient, buildRef, clientCommand, wantsJson } from '../client-command.ts';
import { printResult } from '../output.ts';

export function cancelCommand(): Command {
  const command = clientCommand('cancel', 'cancel a QUEUED or RUNNING build (it ends FAILED)')
    .argument('<build>', 'build id, e.g. b42')
    .action(async (id: string) => {
      const build = await apiClient(command).post<BuildJson>(`/v1/builds/${encodeURIComponent(buildRef(id))}/cancel`);
      printResult(wantsJson(command), build, () => `cancelled ${build.id} (${build.service}): ${build.failureReason ?? build.status}`);
    });
  return command;
}
