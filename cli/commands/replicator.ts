import { Command } from 'commander';
import { main, replicatorSettings } from '../../coordinator/replicator-main.ts';
import { addSettingOptions, settingFlags } from '../setting-options.ts';

export function replicatorCommand(): Command {
  const command = new Command('replicator')
    .description('copy successful builds from the main bucket into every regional bucket (scales copying out of the coordinator)')
    .action(async () => main({ flags: settingFlags(command, replicatorSettings) }));
  return addSettingOptions(command, replicatorSettings);
}
