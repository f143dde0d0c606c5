import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveClientConfig } from './client-config.ts';

describe('finding the coordinator', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-client-'));
  });

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prefers the settings, then up.json, then the default address with the local token', () => {
    expect(resolveClientConfig({ FLEETCAST_DATA_DIR: dir })).toMatchObject({ apiUrl: 'http://127.0.0.1:7070', token: null });
    fs.writeFileSync(path.join(dir, 'api-token'), 'local-token\n');
    expect(resolveClientConfig({ FLEETCAST_DATA_DIR: dir })).toMatchObject({ apiUrl: 'http://127.0.0.1:7070', token: 'local-token' });
    fs.writeFileSync(path.join(dir, 'up.json'), JSON.stringify({ apiUrl: 'http://127.0.0.1:4000/', token: 'up-token', regions: ['eu'] }));
    expect(resolveClientConfig({ FLEETCAST_DATA_DIR: dir })).toMatchObject({ apiUrl: 'http://127.0.0.1:4000', token: 'up-token' });
    expect(resolveClientConfig({ FLEETCAST_DATA_DIR: dir, FLEETCAST_API_URL: 'http://x:1', FLEETCAST_API_TOKEN: 't' })).toMatchObject({
      apiUrl: 'http://x:1',
      token: 't',
      urlFrom: 'set by --api-url / FLEETCAST_API_URL',
    });
  });

  it('never sends the local admin token to a coordinator on another machine', () => {
    fs.writeFileSync(path.join(dir, 'api-token'), 'local-token\n');
    expect(resolveClientConfig({ FLEETCAST_DATA_DIR: dir, FLEETCAST_API_URL: 'https://fleetcast.example.com' }).token).toBeNull();
    expect(resolveClientConfig({ FLEETCAST_DATA_DIR: dir, FLEETCAST_API_URL: 'http://localhost:9000' }).token).toBe('local-token');
  });

  it("trusts FLEETCAST_API_CA, else up.json's CA for up.json's own URL only", () => {
    expect(resolveClientConfig({ FLEETCAST_DATA_DIR: dir }).ca).toBeNull();
    fs.writeFileSync(path.join(dir, 'up.json'), JSON.stringify({ apiUrl: 'https://127.0.0.1:4000', token: 'up-token', ca: '/d/tls/ca.crt' }));
    expect(resolveClientConfig({ FLEETCAST_DATA_DIR: dir })).toMatchObject({ apiUrl: 'https://127.0.0.1:4000', ca: '/d/tls/ca.crt' });
    // Another coordinator named by the settings: up.json's CA says nothing about its certificate.
    expect(resolveClientConfig({ FLEETCAST_DATA_DIR: dir, FLEETCAST_API_URL: 'https://fleetcast.example.com' }).ca).toBeNull();
    expect(resolveClientConfig({ FLEETCAST_DATA_DIR: dir, FLEETCAST_API_CA: '/etc/fleetcast/ca.crt' }).ca).toBe('/etc/fleetcast/ca.crt');
  });

  it('names a broken up.json', () => {
    fs.writeFileSync(path.join(dir, 'up.json'), '{"apiUrl": 12');
    expect(() => resolveClientConfig({ FLEETCAST_DATA_DIR: dir })).toThrow(/up\.json is not a valid up\.json/);
  });
});
