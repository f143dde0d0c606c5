import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretMasker } from './secret-masker.ts';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-masker-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('SecretMasker', () => {
  it("masks the worker's secrets: secret-named variables, URL passwords, data-dir files, up.json and permissions tokens", () => {
    fs.writeFileSync(path.join(dir, 'api-token'), 'admin-token-aaaaaaaaaaaa\n');
    fs.writeFileSync(path.join(dir, 'secret'), 'cluster-secret-bbbbbbbbbbbb\n');
    fs.writeFileSync(path.join(dir, 'up.json'), JSON.stringify({ token: 'up-token-cccccccccccc', hub: 'nats://coordinator:nats-pass-dddddddd@127.0.0.1:4222' }));
    const permissions = path.join(dir, 'permissions.json');
    fs.writeFileSync(permissions, JSON.stringify({ tokens: [{ name: 'ci', token: 'ci-token-eeeeeeeeeeee', scopes: ['build'] }] }));
    const masker = SecretMasker.fromWorker(
      {
        FLEETCAST_PERMISSIONS: permissions,
        FLEETCAST_WEBHOOK_SECRET: 'webhook-secret-ffffffffffff',
        FLEETCAST_DATABASE_URL: 'mysql://fleet:db-pass-gggggggg@db:3306/fleet',
        FLEETCAST_LOG_LEVEL: 'info',
      },
      dir,
    );
    const line = 'admin-token-aaaaaaaaaaaa cluster-secret-bbbbbbbbbbbb up-token-cccccccccccc nats-pass-dddddddd ci-token-eeeeeeeeeeee webhook-secret-ffffffffffff db-pass-gggggggg info';
    expect(masker.apply(line)).toBe('[masked] [masked] [masked] [masked] [masked] [masked] [masked] info');
  });

  it('masks the longer of two overlapping secrets whole, and leaves short values alone', () => {
    const masker = new SecretMasker(['abcdefgh', 'abcdefgh-and-more', 'short']);
    expect(masker.apply('x abcdefgh-and-more y abcdefgh z short')).toBe('x [masked] y [masked] z short');
  });

  it("adds a service's secret-named build settings, not its other ones", () => {
    const masker = new SecretMasker([]).withSecretsOf({ NPM_TOKEN: 'npm-token-hhhhhhhhhhhh', REGISTRY: 'https://registry.example' });
    expect(masker.apply('npm-token-hhhhhhhhhhhh https://registry.example')).toBe('[masked] https://registry.example');
  });

  it('reads what exists: a data directory without secret files masks nothing', () => {
    expect(SecretMasker.fromWorker({}, path.join(dir, 'missing')).values()).toEqual([]);
  });
});
