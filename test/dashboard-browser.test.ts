// The web dashboard in a real Chromium (Debian's, driven by playwright-core) against a real
// coordinator with a NATS hub, a leaf per region and real agents: sign in with a token; watch a
// deploy converge live on the overview and service pages without a reload; roll back from the page
// and see every agent switch; a read-only token sees no action buttons and its crafted POST is
// refused; a change without the CSRF token is refused. Screenshots of every page are written to
// test-output/dashboard/ for review.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Build, BuildLogSource } from '../coordinator/index.ts';
import type { StatusReport } from '../goalstate/index.ts';
import { serviceScript, TestFleet, type TestAgent } from './support/agent-fleet.ts';
import { storeArtifact } from './support/agent-artifacts.ts';
import { startBrowser, type TestBrowser } from './support/browser.ts';
import { serviceBody, startTestCoordinator, type TestCoordinator } from './support/coordinator.ts';
import { deployableBuild } from './support/deployable-build.ts';

const regions = ['eu', 'us'];
const readToken = 'dashboard-browser-read-token-0123456789';
const shots = path.resolve('test-output/dashboard');
let fleet: TestFleet;
let coordinator: TestCoordinator;
let browser: TestBrowser;
let page: Page;
let dir: string;
const agents: TestAgent[] = [];

/** Build logs a test appends to, per build (the builder's blob logs stand behind the same interface). */
class GrowingLogs implements BuildLogSource {
  readonly texts = new Map<number, string>();
  async read(build: Build, offset: number) {
    const chunk = (this.texts.get(build.id) ?? '').slice(offset);
    return { text: chunk, nextOffset: offset + chunk.length };
  }
}
const logs = new GrowingLogs();

async function agentBuild(): Promise<string> {
  const build = await deployableBuild(coordinator.handle, 'api', regions, [], async (id) => {
    const stored = await storeArtifact(await Promise.all(regions.map((r) => fleet.bucket(r))), 'api', id, 50_000, serviceScript);
    return { digest: stored.digest, size: stored.bytes.length };
  });
  return `b${build.id}`;
}
const running = (build: string) => (r: StatusReport) => r.state === 'running' && r.build === build;
const everyAgentRuns = async (build: string) => {
  for (const agent of agents) await fleet.reportOf(agent.region, 'api', agent.machine, running(build), 30_000);
};
const screenshot = (name: string) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });

async function signIn(token: string): Promise<void> {
  await page.goto(`${coordinator.url}/dashboard/`);
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-live="true"]');
}

beforeAll(async () => {
  fs.mkdirSync(shots, { recursive: true });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-dashboard-browser-'));
  const permissions = path.join(dir, 'permissions.json');
  fs.writeFileSync(permissions, JSON.stringify({ tokens: [{ name: 'viewer', token: readToken, scopes: ['read'] }] }));
  fleet = await TestFleet.start(regions);
  coordinator = await startTestCoordinator('sqlite', {
    env: {
      ...fleet.coordinatorEnv(),
      FLEETCAST_DEPLOY_WAVES: 'canary',
      FLEETCAST_PERMISSIONS: permissions,
    },
    overrides: { buildLogs: logs },
  });
  expect((await coordinator.request('POST', '/v1/services', { body: serviceBody('api', { runCommand: 'sh ./api' }) })).status).toBe(201);
  for (const [region, machine] of [['eu', 'eu-1'], ['us', 'us-1']] as const) agents.push(await fleet.startAgent(region, machine, { env: { FLEETCAST_AGENT_SERVICES: 'api' } }));
  browser = await startBrowser();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await coordinator?.stop();
  await fleet?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

it('signs in with a token: the page holds an HttpOnly, SameSite=Strict session cookie, not the token', async () => {
  await signIn(coordinator.token);
  const [cookie] = await browser.context.cookies(coordinator.url);
  expect(cookie).toMatchObject({ name: 'fleetcast_session', httpOnly: true, sameSite: 'Strict', secure: false });
  expect(await page.evaluate(() => document.cookie)).toBe('');
  expect(await page.evaluate(() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage))).not.toContain(coordinator.token);
}, 60_000);

it('shows a deploy converge live on the overview and the service page, without reloading', async () => {
  const first = await agentBuild();
  await page.goto(`${coordinator.url}/dashboard/#/`);
  await page.waitForSelector('[data-live="true"]');
  // A reload would lose this mark.
  await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
  const reply = await coordinator.request('POST', '/v1/deployments', { body: { build: first, reason: 'first release' } });
  expect(reply.status, reply.text).toBe(201);
  for (const region of regions) {
    const row = `tr[data-service=api][data-region=${region}]`;
    await page.waitForSelector(`${row} [data-goal]:has-text("${first}")`, { timeout: 30_000 });
    await page.waitForSelector(`${row} [data-running="1"][data-machines="1"]`, { timeout: 30_000 });
  }
  await page.waitForSelector('tr[data-service=api] [data-rollout]:has-text("CONVERGED")', { timeout: 30_000 });
  await screenshot('overview');
  // Readable on a phone: the same page at a phone's width.
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot('overview-phone');
  await page.setViewportSize({ width: 1280, height: 900 });

  const second = await agentBuild();
  await page.click('a[href="#/services/api"] >> nth=0');
  await page.waitForSelector('[data-deployment][data-status=CONVERGED]');
  const next = await coordinator.request('POST', '/v1/deployments', { body: { build: second, reason: 'second release' } });
  expect(next.status, next.text).toBe(201);
  // The canary wave, then the rest: each seen converging on the page as the agents report.
  await page.waitForSelector(`[data-deployment="${next.json.id}"] [data-wave="1"][data-wave-status=CONVERGED]`, { timeout: 30_000 });
  await page.waitForSelector(`[data-deployment="${next.json.id}"][data-status=CONVERGED]`, { timeout: 30_000 });
  await page.waitForSelector(`[data-history="${next.json.id}"]`);
  await everyAgentRuns(second);
  expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  await screenshot('service');
}, 120_000);

it('rolls back from the page, behind a confirmation: every agent switches back', async () => {
  const before = (await coordinator.handle.deploys.status('api')).deployment!;
  const target = (await coordinator.handle.deploys.list({ service: 'api', limit: 2 }))[1]!.build;
  await page.click('button[data-action=rollback]');
  // The coordinator's own preview (the --dry-run route): the build it returns to, every machine already holding it.
  await page.waitForSelector('[role=dialog] [data-preview=ok]', { timeout: 15_000 });
  const preview = (await page.textContent('[role=dialog] [data-preview]'))!;
  expect(preview).toContain(`Build ${target}`);
  expect(preview).toContain('Holding it in cache');
  await page.fill('[role=dialog] input', 'bad release, from the dashboard');
  await screenshot('confirm-rollback');
  await page.click('button[data-confirm=rollback]');
  await page.waitForSelector('[data-deployment][data-status=CONVERGED]:has-text("rollback")', { timeout: 30_000 });
  const rollback = (await coordinator.handle.deploys.status('api')).deployment!;
  expect(rollback).toMatchObject({ kind: 'rollback', requestedBy: 'local-admin', reason: 'bad release, from the dashboard' });
  expect(rollback.id).not.toBe(before.id);
  const previous = (await coordinator.handle.deploys.list({ service: 'api', limit: 3 }))[2]!.build;
  await everyAgentRuns(previous);
  for (const agent of agents) expect(agent.current('api')).toBe(`builds/${previous}`);
  // The rollback locked the service; the page shows it and offers Unlock.
  await page.waitForSelector('button[data-action=unlock]');
}, 90_000);

it('shows a build, the audit log and a region\'s machines', async () => {
  const build = (await coordinator.handle.deploys.status('api')).deployment!.build;
  await page.goto(`${coordinator.url}/dashboard/#/builds/${build}`);
  await page.waitForSelector(`h1:has-text("${build}")`);
  await page.waitForSelector('.copies li');
  await screenshot('build');
  await page.goto(`${coordinator.url}/dashboard/#/audit`);
  await page.waitForSelector('tr[data-audit] >> text=rollback');
  await page.fill('input[name=action]', 'deploy');
  await page.click('form[role=search] button[type=submit]');
  await page.waitForFunction(() => [...document.querySelectorAll('tr[data-audit] td:nth-child(3)')].every((td) => td.textContent === 'deploy'));
  await screenshot('audit');
  await page.goto(`${coordinator.url}/dashboard/#/regions/eu/machines`);
  await page.waitForSelector('tr[data-machine=eu-1]');
  await page.selectOption('select[name=state]', 'failed');
  await page.click('form[role=search] button[type=submit]');
  await page.waitForSelector('text=No machine matches.');
  await screenshot('machines');
}, 60_000);

it("follows a running build's log live", async () => {
  const build = await coordinator.handle.queue.enqueue({ service: 'api', commit: 'c'.repeat(40) });
  logs.texts.set(build.id, 'step 1: fetching\n');
  await page.goto(`${coordinator.url}/dashboard/#/builds/b${build.id}`);
  await page.waitForSelector('pre.log:has-text("step 1: fetching")');
  logs.texts.set(build.id, 'step 1: fetching\nstep 2: compiling\n');
  await page.waitForSelector('pre.log:has-text("step 2: compiling")');
  await screenshot('build-log');
  await coordinator.handle.queue.cancel(build.id, 'test');
  await page.waitForSelector('h2:has-text("(complete)")');
  expect(await page.textContent('pre.log')).toBe('step 1: fetching\nstep 2: compiling\n');
}, 30_000);

it('serves the fleet at once (GET /v1/status) and pages a region\'s machines from its status view', async () => {
  const status = await coordinator.request('GET', '/v1/status');
  expect(status.status, status.text).toBe(200);
  expect(status.json.services).toHaveLength(1);
  expect(status.json.services[0]).toMatchObject({ service: 'api', lock: { lockedBy: 'local-admin' }, deployment: { kind: 'rollback' } });
  expect(status.json.services[0].regions.map((r: { region: string; convergence: { running: number } }) => [r.region, r.convergence.running])).toEqual([['eu', 1], ['us', 1]]);
  // A read token (a dashboard's) does not get the builds' P2P keys.
  const read = await coordinator.request('GET', '/v1/status', { token: readToken });
  expect(read.json.services[0].regions.every((r: { goal: { p2pKey: string | null } }) => r.goal.p2pKey === null)).toBe(true);
  const build = status.json.services[0].regions[0].goal.build as string;
  const machines = await coordinator.request('GET', `/v1/regions/eu/machines?service=api&state=running&build=${build}`);
  expect(machines.json).toMatchObject({ region: 'eu', machines: [{ service: 'api', machine: 'eu-1', build, state: 'running', silent: false }], next: null });
  expect((await coordinator.request('GET', '/v1/regions/eu/machines?state=failed')).json.machines).toEqual([]);
  const unknown = await coordinator.request('GET', '/v1/regions/mars/machines');
  expect(unknown.status).toBe(404);
  expect(unknown.json.error.message).toContain("the coordinator's regions are eu, us");
}, 30_000);

it('refuses a change without the CSRF token, even with the session cookie; the page sends it', async () => {
  const status = await page.evaluate(async () => {
    const response = await fetch('/v1/services/api/lock', { method: 'DELETE' });
    return { status: response.status, body: await response.json() };
  });
  expect(status).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN', message: expect.stringContaining('CSRF') } } });
  expect((await coordinator.handle.deploys.status('api')).lock).not.toBeNull();
  // The page's own request carries it: unlock from the page goes through.
  await page.goto(`${coordinator.url}/dashboard/#/services/api`);
  await page.click('button[data-action=unlock]');
  await page.click('button[data-confirm=unlock]');
  await page.waitForSelector('button[data-action=lock]');
  expect((await coordinator.handle.deploys.status('api')).lock).toBeNull();
  const audit = await coordinator.request('GET', '/v1/audit?action=unlock');
  expect(audit.json.entries[0]).toMatchObject({ actor: 'local-admin', target: 'api', result: 'ok' });
}, 30_000);

it('a read-only token sees no action buttons, and its crafted POST is refused', async () => {
  await page.goto(`${coordinator.url}/dashboard/#/`);
  await page.click('header button:has-text("Sign out")');
  await page.waitForSelector('#token');
  await signIn(readToken);
  await page.goto(`${coordinator.url}/dashboard/#/services/api`);
  await page.waitForSelector('[data-read-only]');
  expect(await page.locator('button[data-action]').count()).toBe(0);
  await screenshot('service-read-only');
  const crafted = await page.evaluate(async () => {
    const session = (await (await fetch('/v1/session')).json()) as { csrf: string };
    const response = await fetch('/v1/services/api/rollback', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrf }, body: '{}' });
    return { status: response.status, body: await response.json() };
  });
  expect(crafted).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN', message: expect.stringContaining('token "viewer" (scopes: read) may not roll back') } } });
}, 60_000);
