import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentDir, loadAgentConfig } from './config.ts';

describe('agent settings', () => {
  it('default to the region and machine dir under the data dir, every service, and the documented values', () => {
    const config = loadAgentConfig({ env: { FLEETCAST_DATA_DIR: '/d', FLEETCAST_MACHINE: 'web-1' }, flags: { FLEETCAST_REGION: 'eu' } });
    expect(agentDir(config)).toBe(path.join('/d', 'agents', 'eu-web-1'));
    expect(config).toMatchObject({
      FLEETCAST_AGENT_SERVICES: undefined,
      FLEETCAST_AGENT_CACHE_BUILDS: 3,
      FLEETCAST_AGENT_MIN_FREE_DISK: 1024 ** 3,
      FLEETCAST_AGENT_HEALTH_GRACE: 10_000,
      FLEETCAST_AGENT_HEALTH_TIMEOUT: 60_000,
      FLEETCAST_AGENT_BUCKET_FALLBACK: 30_000,
      FLEETCAST_AGENT_SEEDER_WAIT: 300_000,
      FLEETCAST_AGENT_BUCKET_RATE: 100 * 1024 ** 2,
      FLEETCAST_AGENT_RUN_HOOK: undefined,
    });
    expect(agentDir({ ...config, FLEETCAST_AGENT_DIR: '/srv/agent' })).toBe('/srv/agent');
  });

  it('parse service lists and refuse machine ids and regions that are not one subject token', () => {
    expect(loadAgentConfig({ env: { FLEETCAST_AGENT_SERVICES: ' api, web ,' } }).FLEETCAST_AGENT_SERVICES).toEqual(['api', 'web']);
    expect(loadAgentConfig({ env: { FLEETCAST_AGENT_SERVICES: ' ' } }).FLEETCAST_AGENT_SERVICES).toBeUndefined();
    expect(() => loadAgentConfig({ env: { FLEETCAST_MACHINE: 'web-1.eu', FLEETCAST_REGION: 'hub', FLEETCAST_AGENT_SERVICES: 'Api' } })).toThrow(
      /FLEETCAST_REGION \(--region\).*\n.*FLEETCAST_MACHINE \(--machine\): letters, digits.*\n.*FLEETCAST_AGENT_SERVICES \(--agent-services\)/s,
    );
  });
});
