// The production examples in ops/examples/ are what an operator copies: each role must accept
// its environment file as written, and both readers of the permissions file must accept it.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBotConfig } from '../bot/config.ts';
import { readSlackGrants } from '../bot/permissions/index.ts';
import { loadBuilderConfig } from '../builder/config.ts';
import { readPermissionsFile } from '../coordinator/api/auth/index.ts';
import { loadConfig } from '../config/index.ts';
import { loadCoordinatorConfig, replicatorSettings } from '../coordinator/config.ts';
import { loadAgentConfig } from '../edge-agent/agent/config.ts';
import { loadSeederConfig } from '../edge-agent/seeder/config.ts';
import { repoRoot } from './support/processes.ts';

const examples = path.join(repoRoot, 'ops', 'examples');

/** KEY=VALUE lines, comments and blank lines skipped, as systemd's EnvironmentFile reads them. */
function envFile(name: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of fs.readFileSync(path.join(examples, name), 'utf8').split('\n')) {
    if (/^\s*(#|$)/.test(line)) continue;
    const at = line.indexOf('=');
    env[line.slice(0, at)] = line.slice(at + 1);
  }
  return env;
}

describe('ops/examples', () => {
  it('each role accepts its environment file', () => {
    const permissions = path.join(examples, 'permissions.json');
    const withPermissions = (env: Record<string, string>) => ({ ...env, ...(env.FLEETCAST_PERMISSIONS ? { FLEETCAST_PERMISSIONS: permissions } : {}) });
    expect(loadCoordinatorConfig({ env: withPermissions(envFile('coordinator.env')) })).toMatchObject({ FLEETCAST_REGIONS: ['eu-west', 'us-east', 'ap-south'], FLEETCAST_BLOBSTORE: 'gcs', FLEETCAST_WAVE_MAX_FAILED: 0.01 });
    expect(loadBuilderConfig({ env: envFile('worker.env') })).toMatchObject({ FLEETCAST_WORKER_CONCURRENCY: 2 });
    expect(loadConfig(replicatorSettings, { env: envFile('replicator.env') })).toMatchObject({ FLEETCAST_REPLICATION_CONCURRENCY: 8 });
    expect(loadSeederConfig({ env: envFile('seeder.env') })).toMatchObject({ FLEETCAST_REGION: 'eu-west', FLEETCAST_GOAL_PUBLIC_KEYS: '/etc/fleetcast/goal-signing.pub' });
    expect(loadAgentConfig({ env: { ...envFile('agent.env'), FLEETCAST_MACHINE: 'web-1' } })).toMatchObject({ FLEETCAST_REGION: 'eu-west', FLEETCAST_AGENT_SERVICES: ['api', 'web'], FLEETCAST_GOAL_PUBLIC_KEYS: '/etc/fleetcast/goal-signing.pub' });
    expect(loadCoordinatorConfig({ env: withPermissions(envFile('coordinator.env')) })).toMatchObject({ FLEETCAST_GOAL_SIGNING_KEY: '/etc/fleetcast/goal-signing.key' });
    expect(loadBotConfig({ env: withPermissions(envFile('bot.env')) })).toMatchObject({ FLEETCAST_SLACK_CHANNELS: { api: 'C0123ABCD', '*': 'C0456EFGH' } });
  });

  it('every role accepts the S3 lines in place of the GCS ones', () => {
    const s3 = envFile('s3.env');
    const fleetcastOnly = Object.fromEntries(Object.entries(s3).filter(([name]) => name.startsWith('FLEETCAST_')));
    const agent = { ...envFile('agent.env'), FLEETCAST_GCS_PROJECT: '', ...fleetcastOnly, FLEETCAST_MACHINE: 'web-1' };
    expect(loadAgentConfig({ env: agent })).toMatchObject({ FLEETCAST_BLOBSTORE: 's3', FLEETCAST_S3_REGION: 'eu-west-1', FLEETCAST_S3_PART_SIZE: 16 * 1024 ** 2, FLEETCAST_AGENT_LOG_MAX: 10 * 1024 ** 2, FLEETCAST_AGENT_LOG_KEEP: 5 });
    expect(loadBuilderConfig({ env: { ...envFile('worker.env'), ...fleetcastOnly } })).toMatchObject({ FLEETCAST_BLOBSTORE: 's3', FLEETCAST_S3_FORCE_PATH_STYLE: false });
    expect(Object.keys(s3).filter((name) => !name.startsWith('FLEETCAST_'))).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
  });

  it('requires TLS on every HTTP listener and trusts the API\'s CA in every client', () => {
    const coordinator = envFile('coordinator.env');
    const bot = envFile('bot.env');
    // Both listeners beyond loopback, both with a certificate and its key: no plaintext port.
    expect(loadCoordinatorConfig({ env: { ...coordinator, FLEETCAST_PERMISSIONS: path.join(examples, 'permissions.json') } })).toMatchObject({
      FLEETCAST_LISTEN: { host: '0.0.0.0' },
      FLEETCAST_TLS_CERT: expect.stringMatching(/\.crt$/),
      FLEETCAST_TLS_KEY: expect.stringMatching(/\.key$/),
    });
    expect(loadBotConfig({ env: bot })).toMatchObject({
      FLEETCAST_BOT_LISTEN: { host: '0.0.0.0' },
      FLEETCAST_TLS_CERT: expect.stringMatching(/\.crt$/),
      FLEETCAST_TLS_KEY: expect.stringMatching(/\.key$/),
      FLEETCAST_API_URL: expect.stringMatching(/^https:\/\//),
      FLEETCAST_API_CA: expect.stringMatching(/ca\.crt$/),
    });
    // No example talks to a coordinator in plaintext.
    for (const name of fs.readdirSync(examples).filter((file) => file.endsWith('.env'))) {
      expect(envFile(name).FLEETCAST_API_URL ?? 'https://', name).toMatch(/^https:\/\//);
    }
  });

  it('the permissions file is read by the coordinator (tokens) and the bot (Slack grants)', () => {
    const file = path.join(examples, 'permissions.json');
    expect(readPermissionsFile(file).tokens.map((t) => t.name)).toEqual(['ci', 'dashboard', 'slack-bot']);
    expect(Object.keys(readSlackGrants(file).services)).toEqual(['api', 'web', '*']);
  });
});
