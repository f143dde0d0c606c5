// npm run docs:settings: writes each setting's default (settings.ts, its one definition) into the
// README's settings tables. config/settings-readme.test.ts fails while the README is behind.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { settingDefaultText, settings, type SettingName } from './settings.ts';

export const readmePath = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'README.md');

/** A table row naming settings: `| \`FLEETCAST_X\`, \`FLEETCAST_Y\` | … | default |`. */
const settingRow = /^\| (`FLEETCAST_[A-Z0-9_]+`(?:, `FLEETCAST_[A-Z0-9_]+`)*) \|(.*)\| ([^|]*) \|$/;

/** The README with every settings row's last cell set from the definitions; the settings no row names. */
export function withSettingDefaults(readme: string): { text: string; missing: SettingName[]; unknown: string[] } {
  const seen = new Set<string>();
  const unknown: string[] = [];
  const text = readme
    .split('\n')
    .map((line) => {
      const match = settingRow.exec(line);
      if (!match) return line;
      const names = [...match[1]!.matchAll(/`(FLEETCAST_[A-Z0-9_]+)`/g)].map((m) => m[1]!);
      for (const name of names) seen.add(name);
      if (names.some((name) => !(name in settings))) {
        unknown.push(...names.filter((name) => !(name in settings)));
        return line;
      }
      const cell = names.map((name) => settingDefaultText(name as SettingName) ?? '—').join('; ');
      return `| ${match[1]} |${match[2]}| ${cell} |`;
    })
    .join('\n');
  const missing = (Object.keys(settings) as SettingName[]).filter((name) => !seen.has(name));
  return { text, missing, unknown };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { text, missing, unknown } = withSettingDefaults(fs.readFileSync(readmePath, 'utf8'));
  fs.writeFileSync(readmePath, text);
  if (missing.length > 0 || unknown.length > 0) {
    console.error(`README.md: settings without a row: ${missing.join(', ') || 'none'}; rows naming no setting: ${unknown.join(', ') || 'none'}`);
    process.exit(1);
  }
  console.log('README.md: every setting\'s default written from config/settings.ts');
}
