import { Command } from 'commander';
import { botSettings } from '../../bot/config.ts';
import { addSettingOptions, settingFlags } from '../setting-options.ts';

export function botCommand(): Command {
  const command = new Command('bot')
    .description('run the Slack bot: /deploy, /rollback, /build, /builds, /status, /lock, /unlock (HTTP mode, or Socket Mode with an app token)')
    // Loaded when run: the other commands start faster without Bolt.
    .action(async () => (await import('../../bot/main.ts')).main({ flags: settingFlags(command, botSettings) }));
  return addSettingOptions(command, botSettings);
}
