import { Command } from 'commander';
import { loadConfig } from '../config/index.ts';
import { ApiClient, resolveClientConfig } from '../api-client/index.ts';
import { addSettingOptions, settingFlags } from './setting-options.ts';

const clientSettings = ['FLEETCAST_API_URL', 'FLEETCAST_API_TOKEN', 'FLEETCAST_API_CA', 'FLEETCAST_DATA_DIR'] as const;

/**
 * A command that talks to the coordinator's API: `--json`, and the flags that say where the
 * coordinator is (`--api-url`, `--api-token`, `--data-dir`), on every one of them.
 */
export function clientCommand(name: string, description: string): Command {
  const command = new Command(name)
    .description(description)
    .option('--json', 'print exactly one JSON document on stdout (errors as {"error": {...}}) and nothing else')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  return addSettingOptions(command, clientSettings);
}

export function apiClient(command: Command): ApiClient {
  const settings = loadConfig(clientSettings, { flags: settingFlags(command, clientSettings) });
  return new ApiClient(resolveClientConfig(settings));
}

export function wantsJson(command: Command): boolean {
  return command.opts<{ json?: boolean }>().json === true;
}

/** `42` → `b42`; anything else is left for the coordinator to judge. */
export function buildRef(text: string): string {
  return /^\d+$/.test(text.trim()) ? `b${text.trim()}` : text.trim();
}
