import { z } from 'zod';
import { FleetcastError } from '../errors/index.ts';
import { flagName, settings, type SettingName, type SettingValues } from './settings.ts';

export interface ConfigSources {
  /** @defaultValue `process.env` */
  env?: Record<string, string | undefined>;
  /** Flag values by setting name; a flag wins over the variable. */
  flags?: Partial<Record<SettingName, string | undefined>>;
}

/**
 * Parses and validates the settings a role uses, once, at start-up. Every problem is reported
 * together, each naming the variable and its flag, so a person fixes them in one go.
 */
export function loadConfig<K extends SettingName>(names: readonly K[], sources: ConfigSources = {}): SettingValues<K> {
  const env = sources.env ?? process.env;
  const shape = Object.fromEntries(names.map((name) => [name, settings[name]]));
  const raw = Object.fromEntries(
    names.map((name) => {
      const value = sources.flags?.[name] ?? env[name];
      return [name, value === '' ? undefined : value];
    }),
  );
  const result = z.object(shape).safeParse(raw);
  if (result.success) return result.data as SettingValues<K>;

  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0]) as SettingName;
    const given = raw[name] === undefined ? 'not set' : `got ${JSON.stringify(raw[name])}`;
    return `${name} (${flagName(name)}): ${issue.message} (${given})`;
  });
  throw new FleetcastError('CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`, { problems });
}
