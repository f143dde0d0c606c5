import { Command } from 'commander';
import { coordinatorSettings } from '../../coordinator/config.ts';
import { main } from '../../coordinator/main.ts';
import { addSettingOptions, settingFlags } from '../setting-options.ts';

export function coordinatorCommand(): Command {
  const command = new Command('coordinator')
    .description('run the coordinator: database migrations, the build queue and its reaper')
    .action(async () => main({ flags: settingFlags(command, coordinatorSettings) }));
  return addSettingOptions(command, coordinatorSettings);
}
