import type { Command } from 'commander';
import { flagName, settingHelp, type SettingName } from '../config/index.ts';

/** Gives a role one flag per setting it reads: `FLEETCAST_DATABASE_URL` ↔ `--database-url`. */
export function addSettingOptions(command: Command, names: readonly SettingName[]): Command {
  for (const name of names) command.option(`${flagName(name)} <value>`, `${settingHelp(name)} [${name}]`);
  return command;
}

/** The flags given on the command line, by setting name, for loadConfig. */
export function settingFlags(command: Command, names: readonly SettingName[]): Partial<Record<SettingName, string>> {
  const options = command.opts<Record<string, string | undefined>>();
  const flags: Partial<Record<SettingName, string>> = {};
  for (const name of names) {
    const key = flagName(name)
      .slice(2)
      .replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
    if (options[key] !== undefined) flags[name] = options[key];
  }
  return flags;
}
