import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './load-config.ts';
import { readmePath, withSettingDefaults } from './settings-readme.ts';
import { settingHelp, settings, type SettingName } from './settings.ts';

describe('settings documentation', () => {
  it("the README's tables show every setting with the default of its one definition (npm run docs:settings)", () => {
    const readme = fs.readFileSync(readmePath, 'utf8');
    const { text, missing, unknown } = withSettingDefaults(readme);
    expect(missing, 'settings without a row in the README').toEqual([]);
    expect(unknown, 'README rows naming no setting').toEqual([]);
    expect(text === readme, 'README.md is behind config/settings.ts: run npm run docs:settings').toBe(true);
  });

  it('--help says each default the way it is defined', () => {
    expect(settingHelp('FLEETCAST_HEARTBEAT_INTERVAL')).toBe('how often a worker heartbeats its build (default 5s)');
    expect(settingHelp('FLEETCAST_SLACK_BOT_TOKEN')).toMatch(/\(required\)$/);
    expect(settingHelp('FLEETCAST_WEBHOOK_SECRET')).toMatch(/\(default: webhook off: 404\)$/);
  });

  it('every default parses like a value a person would set', () => {
    const names = Object.keys(settings) as SettingName[];
    const values = loadConfig(names, { env: {} });
    expect(values.FLEETCAST_HEARTBEAT_INTERVAL).toBe(5_000);
    expect(values.FLEETCAST_MIN_FREE_DISK).toBe(2 * 1024 ** 3);
    expect(values.FLEETCAST_WAVE_SOAK).toBe(0);
    expect(values.FLEETCAST_LISTEN).toEqual({ host: '127.0.0.1', port: 7070 });
    expect(values.FLEETCAST_SLACK_CHANNELS).toEqual({});
    expect(values.FLEETCAST_DATABASE_URL).toBeUndefined();
  });
});
