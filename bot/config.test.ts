import { describe, expect, it } from 'vitest';
import { loadBotConfig, slackMode } from './config.ts';

const base = { FLEETCAST_DATA_DIR: '/tmp/x', FLEETCAST_SLACK_BOT_TOKEN: 'xoxb-1-2-3' };

describe('the bot configuration', () => {
  it('runs in HTTP mode with a signing secret, in Socket Mode with an app token, with the defaults of DESIGN.md', () => {
    const http = loadBotConfig({ env: { ...base, FLEETCAST_SLACK_SIGNING_SECRET: 's'.repeat(32) } });
    expect(slackMode(http)).toBe('http');
    expect(http.FLEETCAST_BOT_LISTEN).toEqual({ host: '127.0.0.1', port: 3000 });
    expect(http.FLEETCAST_SLACK_API_URL).toBe('https://slack.com/api/');
    expect(http.FLEETCAST_SLACK_CHANNELS).toEqual({});
    const socket = loadBotConfig({ env: { ...base, FLEETCAST_SLACK_APP_TOKEN: 'xapp-1-A1-x' }, flags: { FLEETCAST_BOT_LISTEN: '[::1]:0', FLEETCAST_SLACK_API_URL: 'http://127.0.0.1:9/api' } });
    expect(slackMode(socket)).toBe('socket');
    expect(socket.FLEETCAST_BOT_LISTEN).toEqual({ host: '::1', port: 0 });
    expect(socket.FLEETCAST_SLACK_API_URL).toBe('http://127.0.0.1:9/api/');
  });

  it('reads the announcement channel of each service', () => {
    const config = loadBotConfig({ env: { ...base, FLEETCAST_SLACK_APP_TOKEN: 'xapp-1', FLEETCAST_SLACK_CHANNELS: 'api=C0123ABCD, *=C0ALL99' } });
    expect(config.FLEETCAST_SLACK_CHANNELS).toEqual({ api: 'C0123ABCD', '*': 'C0ALL99' });
  });

  it('names every problem with its variable and flag', () => {
    let message = '';
    try {
      loadBotConfig({ env: { FLEETCAST_DATA_DIR: '/tmp/x', FLEETCAST_SLACK_CHANNELS: 'api=#deploys', FLEETCAST_BOT_LISTEN: '3000' } });
    } catch (err) {
      expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
      message = (err as Error).message;
    }
    expect(message).toContain('FLEETCAST_SLACK_CHANNELS (--slack-channels): pairs are service=CHANNEL_ID');
    expect(message).toContain('FLEETCAST_BOT_LISTEN (--bot-listen): must be host:port');
    expect(() => loadBotConfig({ env: { FLEETCAST_DATA_DIR: '/tmp/x' } })).toThrow(/FLEETCAST_SLACK_BOT_TOKEN \(--slack-bot-token\): the bot token xoxb-… .* is required[\s\S]*FLEETCAST_SLACK_SIGNING_SECRET \(--slack-signing-secret\).*FLEETCAST_SLACK_APP_TOKEN/);
    expect(() => loadBotConfig({ env: { ...base, FLEETCAST_SLACK_BOT_TOKEN: 'xoxp-user-token', FLEETCAST_SLACK_APP_TOKEN: 'xapp-1' } })).toThrow(/a bot token starts with xoxb-/);
    expect(() => loadBotConfig({ env: { ...base, FLEETCAST_SLACK_CHANNELS: 'api=C0AAA,api=C0BBB', FLEETCAST_SLACK_APP_TOKEN: 'xapp-1' } })).toThrow(/a service is named twice/);
  });
});
