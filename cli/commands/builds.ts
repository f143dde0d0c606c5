import type { Command } from 'commander';
import type { BuildPageJson } from '../../api-contract/index.ts';
import { apiClient, buildRef, clientCommand, wantsJson } from '../client-command.ts';
import { elapsed, shortCommit, when } from '../format/build-text.ts';
import { table } from '../format/table.ts';
import { printResult } from '../output.ts';

interface BuildsOptions {
  status?: string;
  limit?: string;
  before?: string;
}

export function buildsCommand(): Command {
  const command = clientCommand('builds', 'build history, newest first')
    .argument('[service]', 'only this service')
    .option('--status <status>', 'only builds in this status: QUEUED, RUNNING, SUCCEEDED or FAILED')
    .option('--limit <n>', 'at most this many builds (default 50, at most 500)')
    .option('--before <build>', 'only builds older than this one (the next page)')
    .action(async (service: string | undefined, options: BuildsOptions) => {
      const query = new URLSearchParams();
      if (service !== undefined) query.set('service', service);
      if (options.status !== undefined) query.set('status', options.status.toUpperCase());
      if (options.limit !== undefined) query.set('limit', options.limit);
      if (options.before !== undefined) query.set('before', buildRef(options.before));
      const page = await apiClient(command).get<BuildPageJson>(`/v1/builds${query.size > 0 ? `?${query}` : ''}`);
      printResult(wantsJson(command), page, () => {
        if (page.builds.length === 0) return 'no builds' + (query.size > 0 ? ' match' : ' yet; queue one with: fleetcast build SERVICE COMMIT');
        const rows = page.builds.map((b) => [
          b.id,
          b.service,
          shortCommit(b.commit),
          b.status,
          when(b.createdAt),
          b.durationMs === null ? '-' : elapsed(b.durationMs),
          b.requestedBy ?? '-',
          b.deployable === null ? '-' : b.deployable ? 'yes' : 'no',
        ]);
        const more = page.next === null ? '' : `\nolder builds: add --before ${page.next}`;
        return table(['BUILD', 'SERVICE', 'COMMIT', 'STATUS', 'CREATED', 'DURATION', 'BY', 'DEPLOYABLE'], rows) + more;
      });
    });
  return command;
}
