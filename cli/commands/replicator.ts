import { Command } from 'commander';
import { replicatorSettings } from '../../coordinator/config.ts';
import { addSettingOptions, settingFlags } from '../setting-options.ts';

export function replicatorCommand(): Command {
  const command = new Command('replicator')
    .description('copy successful builds from the main bucket into every regional bucket (scales copying out of the coordinator)')
    .action(async () => (await import('../../coordinator/replicator-main.ts')).main({ flags: settingFlags(command, replicatorSettings) }));
  return addSettingOptions(command, replicatorSettings);
}
