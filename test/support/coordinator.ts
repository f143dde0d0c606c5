import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCoordinatorConfig, runCoordinator, type CoordinatorHandle, type CoordinatorOverrides } from '../../coordinator/index.ts';
import type { StatusUpdate } from '../../goalstate/index.ts';
import type { Dialect } from '../../entities/index.ts';
import { silentLogger } from '../../logging/index.ts';
import { freshDatabase, type TestDatabase } from './databases.ts';
import { testGoalKeys, type TestGoalKeys } from './goal-keys.ts';

export interface TestCoordinator {
  handle: CoordinatorHandle;
  url: string;
  /** The generated local admin token. */
  token: string;
  dataDir: string;
  testDb: TestDatabase;
  /** The goal-signing key the coordinator signs with (FLEETCAST_GOAL_SIGNING_KEY), made in its data dir unless the test gave one. */
  keys: TestGoalKeys | undefined;
  /** For child processes (the CLI): where the coordinator is, with the admin token. */
  env: Record<string, string>;
  /** Sends a request to the API; `token: null` sends none. */
  request(method: string, urlPath: string, options?: RequestOptions): Promise<ApiResponse>;
  /** Stops the coordinator and starts it again on the same port, database and data dir (a restart, as after an upgrade). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface RequestOptions {
  /** @defaultValue the admin token */
  token?: string | null;
  /** JSON-encoded unless a string. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body, when it is JSON. Loosely typed on purpose: tests assert its shape. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/**
 * A coordinator on its own fresh database, its own data directory and a port from the OS.
 * `env` are extra settings (FLEETCAST_WEBHOOK_SECRET, FLEETCAST_PERMISSIONS…).
 */
export async function startTestCoordinator(
  dialect: Dialect,
  options: { env?: Record<string, string>; overrides?: CoordinatorOverrides } = {},
): Promise<TestCoordinator> {
  const testDb = await freshDatabase(dialect);
  const dataDir = testDb.env.FLEETCAST_DATA_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-coordinator-'));
  // A coordinator that writes goals signs them, as an installation's does.
  const keys = options.env?.FLEETCAST_GOAL_SIGNING_KEY === undefined ? testGoalKeys(path.join(dataDir, 'goal-keys')) : undefined;
  const settings = { ...testDb.env, FLEETCAST_DATA_DIR: dataDir, FLEETCAST_LISTEN: '127.0.0.1:0', FLEETCAST_REAPER_INTERVAL: '1s', ...keys?.coordinatorEnv, ...options.env };
  // Deploys only where the test gives a NATS hub: the others must not touch a NATS on 4222.
  const withoutNats = options.env?.FLEETCAST_NATS_URL === undefined;
  const overrides: CoordinatorOverrides = { logger: silentLogger(), eventsPollMs: 50, withoutNats, wavesIntervalMs: 100, hubRetryMs: 500, ...options.overrides };
  let handle: CoordinatorHandle;
  try {
    handle = await runCoordinator(loadCoordinatorConfig({ env: settings }), overrides);
  } catch (err) {
    await testDb.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const url = handle.url;
  const token = handle.adminToken;
  return {
    get handle() {
      return handle;
    },
    url,
    token,
    dataDir,
    testDb,
    keys,
    env: { FLEETCAST_API_URL: url, FLEETCAST_API_TOKEN: token, FLEETCAST_DATA_DIR: dataDir },
    async request(method, urlPath, { token: given = token, body, headers = {} } = {}) {
      const response = await fetch(url + urlPath, {
        method,
        headers: {
          ...(given === null ? {} : { authorization: `Bearer ${given}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: response.status, headers: response.headers, text, json };
    },
    async restart() {
      await handle.stop();
      handle = await runCoordinator(loadCoordinatorConfig({ env: { ...settings, FLEETCAST_LISTEN: new URL(url).host } }), overrides);
    },
    async stop() {
      await handle.stop();
      await testDb.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A service row ready to POST. */
export function serviceBody(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, repo: `/srv/git/${name}`, buildCommand: 'make', artifactPath: `out/${name}`, ...overrides };
}

/**
 * A status update as an agent of `region` would send it: running (or working on) the region's
 * goal build means having applied that signed goal, so the report carries the goal's digest (when
 * running) and sequence — what the coordinator checks before it counts the machine.
 */
export async function asAgentReports(handle: CoordinatorHandle, service: string, region: string, update: StatusUpdate): Promise<StatusUpdate> {
  const goal = (await handle.deploys.status(service)).regions.find((r) => r.region === region)?.goal;
  const applied = goal && update.build === goal.build ? { digest: update.state === 'running' ? goal.digest : null, seq: goal.seq } : {};
  return { ...applied, ...update };
}
