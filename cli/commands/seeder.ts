import { Command } from 'commander';
import { seederSettings } from '../../edge-agent/seeder/config.ts';
import { addSettingOptions, settingFlags } from '../setting-options.ts';

export function seederCommand(): Command {
  const command = new Command('seeder')
    .description("run a regional seeder: turn the region's goal builds (and the newest builds in its bucket) into signed cores and serve them to the region's agents")
    .action(async () => (await import('../../edge-agent/seeder/main.ts')).main({ flags: settingFlags(command, seederSettings) }));
  return addSettingOptions(command, seederSettings);
}
