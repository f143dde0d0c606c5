// `fleetcast creds` as an operator runs it (the real executable): issue writes a 0600 creds file
// whose key the registry lists, a second issue of the same machine is a CONFLICT, revoke marks it,
// and render writes users files that a real nats-server accepts, holding exactly the active
// identities of that server.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { findNatsServer } from '../ops/nats/nats-server-process.ts';
import { renderLeafConfig } from '../ops/nats/render-config.ts';
import { natsCredsPublicKey } from '../trust/index.ts';
import { onlyJson, runCli } from './support/cli.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-creds-cli-'));
const env = { FLEETCAST_DATA_DIR: dir };

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function creds(args: string[], code = 0): Promise<any> {
  const run = await runCli(['creds', ...args, '--json'], env);
  expect(run.code, run.stderr).toBe(code);
  return onlyJson(run);
}

it('issues, refuses a duplicate, revokes, lists, and renders users files a nats-server loads', async () => {
  const eu17 = await creds(['issue', 'agent', '--region', 'eu', '--machine', 'eu-17']);
  expect(eu17).toMatchObject({ name: 'agent-eu-eu-17', role: 'agent', region: 'eu', machine: 'eu-17', credsFile: path.join(dir, 'nats-identities', 'creds', 'agent-eu-eu-17.nk') });
  expect(fs.statSync(eu17.credsFile).mode & 0o777).toBe(0o600);
  expect(natsCredsPublicKey(eu17.credsFile)).toBe(eu17.publicKey);
  expect((await creds(['issue', 'agent', '--region', 'eu', '--machine', 'eu-17'], 1)).error.code).toBe('CONFLICT');
  expect((await creds(['issue', 'agent', '--machine', 'eu-18'], 2)).error).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('--region') });
  const eu18 = await creds(['issue', 'agent', '--region', 'eu', '--machine', 'eu-18', '--out', path.join(dir, 'eu-18.nk')]);
  const us1 = await creds(['issue', 'agent', '--region', 'us', '--machine', 'us-1']);
  const coordinator = await creds(['issue', 'coordinator']);
  expect((await creds(['revoke', 'agent', '--region', 'eu', '--machine', 'eu-17'])).revokedAt).toEqual(expect.any(String));
  expect((await creds(['revoke', 'agent', '--region', 'eu', '--machine', 'eu-17'], 1)).error.code).toBe('NOT_FOUND');
  const listed = await creds(['list']);
  expect(listed.identities.map((i: { name: string; revokedAt?: string }) => [i.name, Boolean(i.revokedAt)])).toEqual([
    ['agent-eu-eu-17', true],
    ['agent-eu-eu-18', false],
    ['agent-us-us-1', false],
    ['coordinator', false],
  ]);

  fs.writeFileSync(path.join(dir, 'admin.pass'), 'admin-secret\n', { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'leaf.pass'), 'leaf-secret\n', { mode: 0o600 });
  const leafUsers = path.join(dir, 'leaf-eu-users.conf');
  expect(await creds(['render', '--server', 'leaf', '--region', 'eu', '--admin-password-file', path.join(dir, 'admin.pass'), '--out', leafUsers])).toEqual({ file: leafUsers, identities: 1 });
  const leafText = fs.readFileSync(leafUsers, 'utf8');
  expect(leafText).toContain(eu18.publicKey);
  expect(leafText).toContain('$KV.status-eu.*.eu-18');
  for (const absent of [eu17.publicKey, us1.publicKey, coordinator.publicKey]) expect(leafText).not.toContain(absent);
  const hubUsers = path.join(dir, 'hub-users.conf');
  expect(await creds(['render', '--server', 'hub', '--leaf-password-file', path.join(dir, 'leaf.pass'), '--out', hubUsers])).toEqual({ file: hubUsers, identities: 1 });
  expect(fs.readFileSync(hubUsers, 'utf8')).toContain(coordinator.publicKey);

  // The leaf's config with the rendered users passes nats-server's own check.
  const conf = path.join(dir, 'leaf-eu.conf');
  fs.writeFileSync(conf, renderLeafConfig({ region: 'eu', clientPort: 4999, monitorPort: 8999, storeDir: path.join(dir, 'store'), hubLeafUrl: 'nats-leaf://leaf:leaf-secret@127.0.0.1:7422', usersFile: 'leaf-eu-users.conf' }));
  expect(() => execFileSync(findNatsServer(), ['-t', '-c', conf], { stdio: 'pipe' })).not.toThrow();
});
