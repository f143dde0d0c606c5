import { Command } from 'commander';
import { builderSettings } from '../../builder/config.ts';
import { addSettingOptions, settingFlags } from '../setting-options.ts';

export function workerCommand(): Command {
  const command = new Command('worker')
    .description('run a builder: claim queued builds, build them, upload and verify the artifacts')
    // Loaded when run: the client commands start faster without the builder's modules.
    .action(async () => (await import('../../builder/main.ts')).main({ flags: settingFlags(command, builderSettings) }));
  return addSettingOptions(command, builderSettings);
}
