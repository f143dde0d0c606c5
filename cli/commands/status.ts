import type { Command } from 'commander';
import type { ServiceListJson, ServiceStatusJson } from '../../api-contract/index.ts';
import { apiClient, clientCommand, wantsJson } from '../client-command.ts';
import { statusText } from '../format/status-text.ts';
import { printResult } from '../output.ts';

export function statusCommand(): Command {
  const command = clientCommand('status', 'the goal of a service (or of every service) in each region, and its lock')
    .argument('[service]', 'only this service')
    .action(async (service: string | undefined) => {
      const client = apiClient(command);
      const path = (name: string) => `/v1/services/${encodeURIComponent(name)}/status`;
      if (service !== undefined) {
        const status = await client.get<ServiceStatusJson>(path(service));
        printResult(wantsJson(command), status, () => statusText(status));
        return;
      }
      const { services } = await client.get<ServiceListJson>('/v1/services');
      const statuses: ServiceStatusJson[] = [];
      for (const s of services) statuses.push(await client.get<ServiceStatusJson>(path(s.name)));
      printResult(wantsJson(command), { services: statuses }, () => (statuses.length === 0 ? 'no services yet' : statuses.map(statusText).join('\n\n')));
    });
  return command;
}
