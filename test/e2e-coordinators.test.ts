// Issue 21, several active coordinators: two coordinator processes on one MariaDB and one NATS
// hub, a deploy in two waves (eu, then us) to real agents. The coordinator holding the rollout's
// lease is killed -9 between the waves: the other takes over within the lease time, writes the
// second wave, the deploy converges, and no region's goal is written twice. Two deploys of one
// service sent at once through the two coordinators never leave two ROLLING, and a deploy while
// another coordinator holds the service's lease is refused with CONFLICT naming it.
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApiClient, streamEvents } from '../api-client/index.ts';
import type { ServerMessage } from '../api-contract/index.ts';
import { connectAdmin, freshDatabase, type TestDatabase } from './support/databases.ts';
import { eventually } from './support/eventually.ts';
import { FaultInstallation } from './support/fault-installation.ts';
import { expectAllSettled, FaultService } from './support/fault-scenario.ts';

let db: TestDatabase;
let sql: mysql.Connection;
let install: FaultInstallation;
let web: FaultService;

beforeAll(async () => {
  db = await freshDatabase('mysql');
  install = await FaultInstallation.start({
    databaseUrl: db.url!,
    coordinators: 2,
    workers: 1,
    agentsPerRegion: 1,
    env: {
      FLEETCAST_DEPLOY_WAVES: 'eu;us',
      // A pause between the waves: the moment to kill the coordinator stepping the rollout.
      FLEETCAST_WAVE_SOAK: '4s',
      FLEETCAST_ROLLOUT_LEASE: '2s',
    },
  });
  web = await FaultService.register(install);
  sql = await connectAdmin(db.url!);
}, 180_000);

afterAll(async () => {
  await sql?.end();
  await install?.stop();
  await db?.drop();
  web?.repo.remove();
}, 60_000);

const deployment = async (id: string, via = install.apiUrl) => {
  const reply = await install.api('GET', `/v1/deployments/${id}`, undefined, via);
  expect(reply.status).toBe(200);
  return reply.json;
};
const rows = async <T>(query: string, params: unknown[] = []): Promise<T[]> => (await sql.query(query, params))[0] as T[];
const goalWrites = async (id: string) =>
  (await rows<{ detail: string }>(`SELECT detail FROM audit WHERE action = 'goal-write'`)).map((r) => JSON.parse(r.detail) as { deployment: string; region: string }).filter((d) => d.deployment === id);

it('the coordinator stepping a rollout killed -9 between its waves: the other takes over, the deploy converges, each wave written once', async () => {
  const build = await install.settled(await web.queue(install, 0, 4096));
  const started = await install.api('POST', '/v1/deployments', { build: build.id });
  expect(started.status, JSON.stringify(started.json)).toBe(201);
  const id = started.json.id as string;
  // The canary converges; the soak holds the second wave back.
  await eventually(async () => (await deployment(id)).waves[0].status === 'CONVERGED', 60_000, `the canary wave of ${id} to converge`);
  expect((await deployment(id)).waves[1].status).toBe('PENDING');
  const [lease] = await rows<{ holder: string }>(`SELECT holder FROM leases WHERE name = ?`, [`rollout:${id}`]);
  expect(lease).toBeDefined();
  const holderPid = Number(lease!.holder.split(':')[1]);
  const holder = ['coordinator', 'coordinator-2'].map((name) => install.role(name)).find((role) => role.pid === holderPid);
  expect(holder, `the lease holder ${lease!.holder} is one of the coordinators`).toBeDefined();
  const other = holder!.name === 'coordinator' ? 'coordinator-2' : 'coordinator';
  // A client of the coordinator that is not stepping the rollout follows it live on /v1/events.
  const client = new ApiClient({ apiUrl: install.apiUrls.get(other)!, urlFrom: 'the test', token: install.token, tokenPlaces: [], ca: null });
  const seen: { status: string; waves: string[] }[] = [];
  const followed = streamEvents(client, {
    subscription: () => ({ subscribe: 'deployment', id }),
    onMessage: (message: ServerMessage) => {
      if (message.type !== 'deployment') return undefined;
      seen.push({ status: message.deployment.status, waves: message.deployment.waves.map((w) => w.status) });
      return message.final ? message : undefined;
    },
  });
  await eventually(() => seen.length > 0, 10_000, 'the first event');
  expect(seen[0]).toEqual({ status: 'ROLLING', waves: ['CONVERGED', 'PENDING'] });
  await holder!.kill9();
  // The load balancer's part: clients go on through the survivor.
  install.apiUrl = install.apiUrls.get(other)!;

  const done = await eventually(async () => {
    const d = await deployment(id, install.apiUrls.get(other));
    return d.status === 'CONVERGED' && d;
  }, 60_000, `${id} to converge through ${other}`);
  expect(done.waves.map((w: { status: string }) => w.status)).toEqual(['CONVERGED', 'CONVERGED']);
  const final = await followed;
  expect(final).toMatchObject({ final: true, deployment: { status: 'CONVERGED' } });
  // Live: the client saw the second wave written before the end.
  expect(seen.map((e) => e.waves.join(','))).toContain('CONVERGED,WRITTEN');
  await install.converged('web', build.id, 1);
  const [taken] = await rows<{ holder: string }>(`SELECT holder FROM leases WHERE name = ?`, [`rollout:${id}`]);
  // Let go once converged; if still there, it is the survivor's.
  if (taken) expect(Number(taken.holder.split(':')[1])).toBe(install.role(other).pid);
  // Each region's goal written exactly once, the second wave by the survivor.
  expect((await goalWrites(id)).map((w) => w.region).sort()).toEqual(['eu', 'us']);
  // One "wave written" per wave across both coordinators: the first by whichever took the deploy, the second by the survivor.
  expect(install.role(other).logged('"msg":"wave written"', `"deployment":"${id}"`, '"regions":["us"]')).toHaveLength(1);
  expect([holder!, install.role(other)].flatMap((role) => role.logged('"msg":"wave written"', `"deployment":"${id}"`))).toHaveLength(2);
  await holder!.start();
  install.apiUrl = install.apiUrls.get('coordinator')!;
}, 180_000);

it('two deploys of one service sent at once through both coordinators never leave two ROLLING; one while another coordinator holds the service is refused with CONFLICT', async () => {
  const first = await install.settled(await web.queue(install, 0, 2048));
  const second = await install.settled(await web.queue(install, 0, 2048));
  const replies = await Promise.all([
    install.api('POST', '/v1/deployments', { build: first.id }, install.apiUrls.get('coordinator')),
    install.api('POST', '/v1/deployments', { build: second.id }, install.apiUrls.get('coordinator-2')),
  ]);
  for (const reply of replies) {
    expect([201, 409], JSON.stringify(reply.json)).toContain(reply.status);
    if (reply.status === 409) expect(reply.json.error.message).toMatch(/another coordinator \(.+\) is starting or writing a rollout of web right now; this request changed nothing/);
  }
  expect(replies.filter((r) => r.status === 201).length).toBeGreaterThanOrEqual(1);
  const active = await rows<{ id: number }>(`SELECT id FROM deployments WHERE service = 'web' AND status IN ('WRITING', 'ROLLING', 'PAUSED')`);
  expect(active.length).toBeLessThanOrEqual(1);

  // Another coordinator in the middle of a deploy of web: refused at once, nothing recorded.
  const before = (await rows<{ n: number }>(`SELECT COUNT(*) AS n FROM deployments`))[0]!.n;
  await sql.query(`INSERT INTO leases (name, holder, expires_at) VALUES ('service:web', 'elsewhere:1:abcd', UTC_TIMESTAMP(3) + INTERVAL 30 SECOND)`);
  const refused = await install.api('POST', '/v1/deployments', { build: first.id }, install.apiUrls.get('coordinator-2'));
  expect(refused.status).toBe(409);
  expect(refused.json.error.code).toBe('CONFLICT');
  expect(refused.json.error.message).toMatch(/another coordinator \(elsewhere:1:abcd\) is starting or writing a rollout of web right now/);
  expect((await rows<{ n: number }>(`SELECT COUNT(*) AS n FROM deployments`))[0]!.n).toBe(before);
  await sql.query(`DELETE FROM leases WHERE name = 'service:web'`);
  await expectAllSettled(install);
}, 180_000);
