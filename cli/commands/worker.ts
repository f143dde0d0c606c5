import { Command } from 'commander';
import { builderSettings } from '../../builder/config.ts';
import { main } from '../../builder/main.ts';
import { addSettingOptions, settingFlags } from '../setting-options.ts';

export function workerCommand(): Command {
  const command = new Command('worker')
    .description('run a builder: claim queued builds, build them, upload and verify the artifacts')
    .action(async () => main({ flags: settingFlags(command, builderSettings) }));
  return addSettingOptions(command, builderSettings);
}
