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
  const shape = Object.fromEntries(names.map((name) => [name, settings[name].schema]));
  // Unset (or empty) takes the setting's default, written as a person would set it, so a
  // default is checked and parsed exactly like a given value.
  const given = Object.fromEntries(
    names.map((name) => {
      const value = sources.flags?.[name] ?? env[name];
      return [name, value === '' ? undefined : value];
    }),
  );
  const raw = Object.fromEntries(names.map((name) => [name, given[name] ?? (settings[name] as { default?: string }).default]));
  const result = z.object(shape).safeParse(raw);
  if (result.success) return result.data as SettingValues<K>;

  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0]) as SettingName;
    const got = given[name] === undefined ? (raw[name] === undefined ? 'not set' : `its default ${JSON.stringify(raw[name])}`) : `got ${JSON.stringify(given[name])}`;
    return `${name} (${flagName(name)}): ${issue.message} (${got})`;
  });
  throw new FleetcastError('CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`, { problems });
}
