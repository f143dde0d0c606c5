import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webApi } from '@slack/bolt';
import { silentLogger } from '../../logging/index.ts';
import { FakeSlack } from '../../test/support/fake-slack.ts';
import { readSlackGrants } from '../../api-contract/index.ts';
import { SlackPermissions } from './slack-permissions.ts';
import { UsergroupMembers } from './usergroup-members.ts';

let dir: string;
let slack: FakeSlack;
let groups: UsergroupMembers;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-slack-perm-'));
  slack = await FakeSlack.start({ groups: { S0ONCALL: ['U0CAROL'], S0API: ['U0DAN'] } });
  groups = new UsergroupMembers(new webApi.WebClient('xoxb-test', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } }), silentLogger());
});

afterAll(async () => {
  await slack.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(content: unknown): string {
  const file = path.join(dir, `p${Math.random().toString(16).slice(2)}.json`);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const user = (id: string) => ({ id, name: id.toLowerCase() });

describe('the slack section of the permissions file', () => {
  it('is read beside the tokens, which the bot ignores', () => {
    const file = write({ tokens: [{ name: 'ci', token: 'x'.repeat(20), scopes: ['build'] }], slack: { services: { api: { deploy: ['U0ALICE', 'S0API'] } } } });
    expect(readSlackGrants(file)).toEqual({ file, services: { api: { deploy: ['U0ALICE', 'S0API'] } } });
    expect(readSlackGrants(write({ tokens: [] }))).toMatchObject({ services: {} });
  });

  it('stops the start naming the file and what is wrong', () => {
    const bad = (content: unknown) => {
      const file = write(content);
      try {
        readSlackGrants(file);
      } catch (err) {
        expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
        expect((err as Error).message).toContain(`FLEETCAST_PERMISSIONS file ${file}: `);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(() => readSlackGrants(path.join(dir, 'missing.json'))).toThrow(/cannot read it \(ENOENT\)/);
    expect(bad('{"slack": ')).toContain('not valid JSON');
    expect(bad({ slack: { services: { api: { deploys: ['U0ALICE'] } } } })).toMatch(/slack\.services\.api.*deploys/);
    expect(bad({ slack: { services: { api: { deploy: ['alice'] } } } })).toContain('slack.services.api.deploy.0: name a user id (U0123ABCD)');
    expect(bad({ slack: { services: { 'Bad Name': { deploy: ['U0ALICE'] } } } })).toContain('keys are service names or "*"');
    expect(bad({ slack: { users: {} } })).toContain('slack');
  });
});

describe('SlackPermissions', () => {
  const grants = { file: '/etc/fleetcast/permissions.json', services: { api: { deploy: ['U0ALICE', 'S0API'], lock: ['U0ALICE'] }, '*': { rollback: ['S0ONCALL'], lock: ['S0ONCALL'], build: ['*'] } } };
  const permissions = () => new SlackPermissions(grants, groups);

  it('grants a service its own entries and those of "*", users and members of groups', async () => {
    await expect(permissions().check(user('U0ALICE'), 'deploy', 'api')).resolves.toBeUndefined();
    await expect(permissions().check(user('U0DAN'), 'deploy', 'api')).resolves.toBeUndefined();
    await expect(permissions().check(user('U0CAROL'), 'rollback', 'web')).resolves.toBeUndefined();
    await expect(permissions().check(user('U0CAROL'), 'lock', 'api')).resolves.toBeUndefined();
    await expect(permissions().check(user('U0ANYONE'), 'build', 'web')).resolves.toBeUndefined();
    expect(permissions().grantees('lock', 'api')).toEqual(['U0ALICE', 'S0ONCALL']);
  });

  it('refuses saying who may, and where an admin grants it', async () => {
    await expect(permissions().check(user('U0BOB'), 'deploy', 'api')).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringContaining('<@U0BOB> may not deploy api: that is granted to <@U0ALICE>, members of <!subteam^S0API>'),
      details: { action: 'deploy', service: 'api', grantees: ['U0ALICE', 'S0API'] },
    });
    await expect(permissions().check(user('U0ALICE'), 'deploy', 'web')).rejects.toMatchObject({
      message: expect.stringContaining('Nobody may deploy web from Slack: an admin grants it by adding user or user group ids to slack.services.web.deploy (or slack.services["*"].deploy) in /etc/fleetcast/permissions.json'),
    });
  });

  it('fails closed when a group cannot be read, and says why', async () => {
    const missing = new SlackPermissions({ file: 'f', services: { api: { deploy: ['S0GONE'] } } }, groups);
    await expect(missing.check(user('U0DAN'), 'deploy', 'api')).rejects.toMatchObject({ message: expect.stringContaining('could not read the members of <!subteam^S0GONE> (no_such_subteam') });
  });

  it('without a file refuses every change, saying how to turn changes on', async () => {
    const none = new SlackPermissions(null, groups);
    await expect(none.check(user('U0ALICE'), 'lock', 'api')).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(/Nobody may lock or unlock api from Slack: the bot has no permissions file.*FLEETCAST_PERMISSIONS.*"slack"/),
    });
  });

  it('asks Slack for a group once a minute, not on every check', async () => {
    const calls = () => slack.callsOf('usergroups.users.list').filter((c) => c.args.usergroup === 'S0API').length;
    const cached = new UsergroupMembers(new webApi.WebClient('xoxb-test', { slackApiUrl: slack.apiUrl }), silentLogger());
    const checker = new SlackPermissions(grants, cached);
    const before = calls();
    for (let i = 0; i < 3; i++) await checker.check(user('U0DAN'), 'deploy', 'api');
    expect(calls() - before).toBe(1);
  });
});
