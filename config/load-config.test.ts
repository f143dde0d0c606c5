import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './load-config.ts';

describe('loadConfig', () => {
  it('applies the defaults of DESIGN.md', () => {
    const config = loadConfig(['FLEETCAST_DATA_DIR', 'FLEETCAST_REGIONS', 'FLEETCAST_DATABASE_URL', 'FLEETCAST_BUILD_TIMEOUT'], { env: {} });
    expect(config).toEqual({
      FLEETCAST_DATA_DIR: path.join(os.homedir(), '.fleetcast'),
      FLEETCAST_REGIONS: ['local'],
      FLEETCAST_DATABASE_URL: undefined,
      FLEETCAST_BUILD_TIMEOUT: 15 * 60_000,
    });
  });

  it('reads variables, and a flag wins over its variable', () => {
    const config = loadConfig(['FLEETCAST_REGIONS', 'FLEETCAST_HEARTBEAT_TIMEOUT', 'FLEETCAST_MAX_ATTEMPTS'], {
      env: { FLEETCAST_REGIONS: 'eu, us,ap', FLEETCAST_HEARTBEAT_TIMEOUT: '45', FLEETCAST_MAX_ATTEMPTS: '5' },
      flags: { FLEETCAST_HEARTBEAT_TIMEOUT: '500ms' },
    });
    expect(config).toEqual({ FLEETCAST_REGIONS: ['eu', 'us', 'ap'], FLEETCAST_HEARTBEAT_TIMEOUT: 500, FLEETCAST_MAX_ATTEMPTS: 5 });
  });

  it('reports every bad value at once, naming the variable and its flag', () => {
    let message = '';
    try {
      loadConfig(['FLEETCAST_DATABASE_URL', 'FLEETCAST_REGIONS', 'FLEETCAST_HEARTBEAT_INTERVAL', 'FLEETCAST_MAX_ATTEMPTS'], {
        env: {
          FLEETCAST_DATABASE_URL: 'postgres://x/y',
          FLEETCAST_REGIONS: 'eu,EU West',
          FLEETCAST_HEARTBEAT_INTERVAL: 'soon',
          FLEETCAST_MAX_ATTEMPTS: '0',
        },
      });
    } catch (err) {
      expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
      message = (err as Error).message;
    }
    expect(message).toContain('FLEETCAST_DATABASE_URL (--database-url): must look like mysql://user:pass@host:port/db (got "postgres://x/y")');
    expect(message).toContain('FLEETCAST_REGIONS (--regions): region names are lower-case letters, digits and dashes');
    expect(message).toContain('FLEETCAST_HEARTBEAT_INTERVAL (--heartbeat-interval): must be a duration such as 500ms, 30s, 15m or 1h');
    expect(message).toContain('FLEETCAST_MAX_ATTEMPTS (--max-attempts)');
  });

  it('rejects a region named twice', () => {
    expect(() => loadConfig(['FLEETCAST_REGIONS'], { env: { FLEETCAST_REGIONS: 'eu,us,eu' } })).toThrow(/a region is named twice/);
  });
});
