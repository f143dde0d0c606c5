import type { Command } from 'commander';
import type { ServiceListJson, ServiceStatusJson } from '../../api-contract/index.ts';
import { FleetcastError } from '../../errors/index.ts';
import { apiClient, clientCommand, wantsJson } from '../client-command.ts';
import { statusText } from '../format/status-text.ts';
import { printResult } from '../output.ts';
import { watchStatus } from './status-watch.ts';

export function statusCommand(): Command {
  const command = clientCommand('status', 'the goal of a service (or of every service) in each region, its machines running it, holding it, failed and silent, the digest they report, and its lock')
    .argument('[service]', 'only this service')
    .option('--watch', 'show it again on every change, live, until Ctrl-C; with --json one status document per line')
    .action(async (service: string | undefined, options: { watch?: boolean }) => {
      const client = apiClient(command);
      if (options.watch) {
        const names = service !== undefined ? [service] : (await client.get<ServiceListJson>('/v1/services')).services.map((s) => s.name);
        if (names.length === 0) throw new FleetcastError('NOT_FOUND', 'no services yet, nothing to watch; register one with: fleetcast service add NAME --repo … --build … --artifact …');
        await watchStatus(client, names, wantsJson(command));
        return;
      }
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
