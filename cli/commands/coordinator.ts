import { Command } from 'commander';
import { coordinatorSettings } from '../../coordinator/config.ts';
import { addSettingOptions, settingFlags } from '../setting-options.ts';

export function coordinatorCommand(): Command {
  const command = new Command('coordinator')
    .description('run the coordinator: database migrations, the build queue and its reaper, the HTTP API, replication, deploys (goal state on the NATS hub)')
    // Loaded when run: every other command (the API clients) starts faster without the server's modules.
    .action(async () => (await import('../../coordinator/main.ts')).main({ flags: settingFlags(command, coordinatorSettings) }));
  return addSettingOptions(command, coordinatorSettings);
}
