import type { Command } from 'commander';
import type { DeploymentListJson } from '../../api-contract/index.ts';
import { apiClient, clientCommand, wantsJson } from '../client-command.ts';
import { when } from '../format/build-text.ts';
import { wavesText } from '../format/deploy-text.ts';
import { table } from '../format/table.ts';
import { printResult } from '../output.ts';

export function deploymentsCommand(): Command {
  const command = clientCommand('deployments', 'deployment and rollback history, newest first')
    .argument('[service]', 'only this service')
    .option('--limit <n>', 'at most this many (default 50, at most 500)')
    .action(async (service: string | undefined, options: { limit?: string }) => {
      const query = new URLSearchParams();
      if (service !== undefined) query.set('service', service);
      if (options.limit !== undefined) query.set('limit', options.limit);
      const list = await apiClient(command).get<DeploymentListJson>(`/v1/deployments${query.size > 0 ? `?${query}` : ''}`);
      printResult(wantsJson(command), list, () =>
        list.deployments.length === 0
          ? 'no deployments yet; deploy a build with: fleetcast deploy BUILD'
          : table(
              ['DEPLOYMENT', 'SERVICE', 'BUILD', 'KIND', 'STATUS', 'WAVES', 'BY', 'CREATED', 'CONVERGED'],
              list.deployments.map((d) => [d.id, d.service, d.build, d.kind, d.status, wavesText(d.waves), d.requestedBy, when(d.createdAt), d.convergedAt ? when(d.convergedAt) : '-']),
            ),
      );
    });
  return command;
}
