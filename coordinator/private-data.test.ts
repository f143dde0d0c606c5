// A coordinator narrows a data directory an older version (or a person) left open: the
// directory to 0700, its token, secret and SQLite files to 0600, with a warning.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { clusterSecretPath } from '../config/index.ts';
import { silentLogger } from '../logging/index.ts';
import { loadCoordinatorConfig } from './config.ts';
import { runCoordinator } from './run.ts';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-private-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const mode = (file: string) => (fs.statSync(file).mode & 0o777).toString(8);

it('narrows an open data directory and its secrets at start', async () => {
  const data = path.join(dir, 'data');
  fs.mkdirSync(data, { mode: 0o755 });
  fs.chmodSync(data, 0o755);
  fs.writeFileSync(path.join(data, 'api-token'), 'a'.repeat(64) + '\n', { mode: 0o644 });
  fs.writeFileSync(clusterSecretPath(data), 'b'.repeat(64) + '\n', { mode: 0o640 });
  fs.chmodSync(path.join(data, 'api-token'), 0o644);
  fs.chmodSync(clusterSecretPath(data), 0o640);
  const handle = await runCoordinator(loadCoordinatorConfig({ env: { FLEETCAST_DATA_DIR: data, FLEETCAST_LISTEN: '127.0.0.1:0' } }), { logger: silentLogger(), withoutNats: true });
  try {
    expect(mode(data)).toBe('700');
    expect(mode(path.join(data, 'api-token'))).toBe('600');
    expect(mode(clusterSecretPath(data))).toBe('600');
    expect(mode(path.join(data, 'fleetcast.sqlite'))).toBe('600');
    expect(handle.adminToken).toBe('a'.repeat(64));
  } finally {
    await handle.stop();
  }
});

it('creates a new data directory 0700 with its token 0600', async () => {
  const data = path.join(dir, 'fresh');
  const handle = await runCoordinator(loadCoordinatorConfig({ env: { FLEETCAST_DATA_DIR: data, FLEETCAST_LISTEN: '127.0.0.1:0' } }), { logger: silentLogger(), withoutNats: true });
  try {
    expect(mode(data)).toBe('700');
    expect(mode(path.join(data, 'api-token'))).toBe('600');
    expect(mode(path.join(data, 'fleetcast.sqlite'))).toBe('600');
  } finally {
    await handle.stop();
  }
});
