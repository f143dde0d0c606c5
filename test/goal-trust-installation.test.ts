// Issue 17 against a whole installation of real fleetcast processes (coordinator, builder
// workers, replicator, a seeder and two agents per region, MariaDB of its own, NATS hub and
// leaves): with the seeders' leaf credentials someone deletes a region's goal mirror, creates a
// plain stream in its place and writes a forged goal — a real build's bytes under a made-up build
// id, with their own command. The agents refuse it and keep running their build, `fleetcast
// status`, the metrics and the audit show it, and the coordinator recreates the mirror. An old
// signed goal replayed is refused by an agent restarted after kill -9. A rollback with MariaDB
// killed signs a goal with a higher sequence, which the agents apply, and its deployment
// converges against what was signed once SQL is back.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../entities/index.ts';
import { selectAudit } from '../coordinator/index.ts';
import { eventually } from './support/eventually.ts';
import { onlyJson } from './support/cli.ts';
import { FaultInstallation } from './support/fault-installation.ts';
import { expectBuiltOnce, FaultService } from './support/fault-scenario.ts';
import { MirrorAttacker } from './support/mirror-attack.ts';
import { PrivateMariaDb } from './support/private-mariadb.ts';

let mariadb: PrivateMariaDb;
let install: FaultInstallation;
let web: FaultService;
const builds: Record<string, { id: string; digest: string }> = {};
let mariadbDown = false;

beforeAll(async () => {
  mariadb = await PrivateMariaDb.start();
  install = await FaultInstallation.start({
    databaseUrl: mariadb.url,
    // Every region at once; the coordinator looks at the mirrors every 10 s (and repairs on the second look).
    env: { FLEETCAST_DEPLOY_WAVES: 'all', FLEETCAST_MIRROR_CHECK_EVERY: '10s', FLEETCAST_AGENT_P2P: 'false' },
  });
  web = await FaultService.register(install);
  for (const name of ['first', 'second']) {
    const id = await web.queue(install, 0, 64 * 1024);
    builds[name] = await expectBuiltOnce(install, web, id);
  }
  await install.json(['deploy', builds.first!.id]);
  await install.converged('web', builds.first!.id, 2);
}, 240_000);

afterAll(async () => {
  if (mariadbDown) await mariadb.startServer();
  await install?.stop();
  await mariadb?.destroy();
  web?.repo.remove();
}, 60_000);

const status = async () => (await install.api('GET', '/v1/services/web/status')).json;
const region = (json: { regions: { region: string }[] }, name: string) => json.regions.find((r) => r.region === name) as any;
const metrics = async () => (await fetch(`${install.apiUrl}/metrics`)).text();
const metric = (text: string, line: RegExp) => Number(text.split('\n').find((l) => line.test(l))?.split(' ').at(-1) ?? NaN);

/** What runs on a machine: the build `current` points at and the supervised process. */
function runningOn(machine: string): { current: string; pid: number } {
  const dir = path.join(install.agentDir(machine), 'services', 'web');
  return { current: fs.readlinkSync(path.join(dir, 'current')), pid: JSON.parse(fs.readFileSync(path.join(dir, 'process.json'), 'utf8')).pid };
}

async function audit(target: string): Promise<Record<string, unknown>[]> {
  const db = await Database.open({ url: mariadb.url, migrate: false });
  try {
    return await selectAudit(db, target);
  } finally {
    await db.close();
  }
}

describe('a forged goal in a mirror replaced with the seeder\'s credentials', () => {
  it('is refused by every agent of the region, which keep their build; status, metrics and audit show it; the coordinator recreates the mirror', async () => {
    const before = { 'eu-1': runningOn('eu-1'), 'eu-2': runningOn('eu-2') };
    const signed = region(await status(), 'eu').goal;
    const attacker = new MirrorAttacker(install.cluster, install.cluster.urls.leaves.eu!, 'eu');
    await attacker.replaceMirror();
    const pwned = path.join(install.dir, 'pwned');
    await attacker.write('web.eu', { ...signed, build: 'b666', deployment: 'd666', runCommand: `touch ${pwned}; exec sleep 3600`, seq: signed.seq + 1_000 });

    // Both machines refuse, and `fleetcast status` says so per region (before the coordinator's second look repairs the mirror).
    const refusing = await eventually(async () => {
      const json = await status();
      return region(json, 'eu').convergence.refused.machines === 2 && json;
    }, 30_000, 'both eu machines refusing');
    expect(region(refusing, 'eu').convergence.refused.codes).toEqual({ GOAL_SIGNATURE_INVALID: 2 });
    expect(region(refusing, 'eu').convergence).toMatchObject({ running: 2, converged: true });
    expect(region(refusing, 'us').convergence.refused.machines).toBe(0);
    const text = await install.cli(['status', 'web']);
    expect(text.stdout).toMatch(/eu: 2 machine\(s\) refused a document, e\.g\. eu-\d: GOAL_SIGNATURE_INVALID/);
    expect(onlyJson(await install.cli(['status', 'web', '--json'])).regions[0].convergence.refused.codes).toEqual({ GOAL_SIGNATURE_INVALID: 2 });
    expect(metric(await metrics(), /^fleetcast_goal_refusing_machines\{region="eu",service="web",code="GOAL_SIGNATURE_INVALID"\}/)).toBe(2);
    // The seeder of eu did not take it either.
    await eventually(() => install.role('seeder-eu').logged('not seeding what the region', 'GOAL_SIGNATURE_INVALID').length > 0, 20_000, 'the seeder refusing the forged goal');

    // The coordinator flags the mirror, then recreates it as a mirror of the hub's goal bucket.
    await eventually(async () => region(await status(), 'eu').mirror?.state === 'not-a-mirror', 30_000, 'the eu mirror flagged');
    const repaired = await eventually(async () => {
      const json = await status();
      return region(json, 'eu').mirror?.state === 'ok' && region(json, 'eu').mirror.repairs >= 1 && json;
    }, 40_000, 'the eu mirror repaired');
    expect(region(repaired, 'eu').mirror.lastRepair).toMatchObject({ ok: true, problem: expect.stringContaining('not-a-mirror') });
    const leaf = await install.cluster.rawManager(install.cluster.urls.leaves.eu!);
    expect((await leaf.streams.info('KV_goal-eu')).config.mirror).toMatchObject({ name: 'KV_goal' });
    const repairs = (await audit('goal-eu')).filter((row) => row.action === 'mirror-repair');
    expect(repairs).toHaveLength(1);
    expect(repairs[0]).toMatchObject({ actor: 'coordinator', result: 'ok' });
    expect(JSON.parse(String(repairs[0]!.detail))).toMatchObject({ region: 'eu', state: 'not-a-mirror' });

    // The agents read the signed goal again: no refusal left; they never ran or fetched anything of the forgery.
    await eventually(async () => region(await status(), 'eu').convergence.refused.machines === 0, 30_000, 'the refusals cleared');
    for (const machine of ['eu-1', 'eu-2'] as const) {
      expect(runningOn(machine)).toEqual(before[machine]);
      expect(fs.existsSync(path.join(install.agentDir(machine), 'services', 'web', 'builds', 'b666'))).toBe(false);
    }
    expect(fs.existsSync(pwned)).toBe(false);
    const text2 = await metrics();
    expect(metric(text2, /^fleetcast_goal_refusals_total\{region="eu",code="GOAL_SIGNATURE_INVALID"\}/)).toBeGreaterThanOrEqual(2);
    expect(metric(text2, /^fleetcast_goal_mirror_repairs_total\{region="eu"\}/)).toBe(1);
    expect(metric(text2, /^fleetcast_goal_mirror_healthy\{region="eu"\}/)).toBe(1);
  }, 180_000);
});

describe('an old signed goal replayed', () => {
  it('is refused (GOAL_REPLAYED) by an agent killed -9 and started again, which keeps running the newer build', async () => {
    await install.json(['deploy', builds.second!.id]);
    await install.converged('web', builds.second!.id, 2);
    // What an attacker could have copied: the signed goal of the first build, from the hub's history.
    const goals = await install.cluster.rawKv(install.cluster.urls.hub, 'goal');
    const history = [];
    for await (const entry of await goals.history({ key: 'web.eu' })) history.push(JSON.parse(new TextDecoder().decode(entry.value)));
    const old = history.find((goal) => goal.build === builds.first!.id)!;
    const current = history.at(-1)!;
    expect(old.seq).toBeLessThan(current.seq);

    const agent = install.role('agent-eu-1');
    await agent.kill9();
    const attacker = new MirrorAttacker(install.cluster, install.cluster.urls.leaves.eu!, 'eu');
    await attacker.replaceMirror();
    await attacker.write('web.eu', old);
    const mark = agent.lines.length;
    await agent.start();
    await eventually(() => agent.lines.slice(mark).some((line) => line.includes('GOAL_REPLAYED')), 30_000, 'the restarted agent refusing the replay');
    expect(runningOn('eu-1').current).toBe(`builds/${builds.second!.id}`);
    // Once the coordinator has repaired the mirror, it runs the current goal, with its sequence.
    await eventually(async () => {
      const eu = region(await status(), 'eu');
      return eu.mirror?.state === 'ok' && eu.convergence.refused.machines === 0 && eu.convergence.running === 2 && eu.goal.seq === current.seq;
    }, 60_000, 'eu back on the signed goal');
  }, 120_000);
});

describe('a rollback with MariaDB killed', () => {
  it('signs goals with a higher sequence from the goal bucket; the agents apply them; the deployment converges against them once SQL is back', async () => {
    const deployed = region(await status(), 'eu').goal;
    await mariadb.kill9();
    mariadbDown = true;
    const run = await install.cli(['rollback', 'web', '--json']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const rollback = onlyJson(run);
    expect(rollback).toMatchObject({ kind: 'rollback', build: builds.first!.id, status: 'ROLLING', spooled: true });
    const signed = rollback.waves[0].goals;
    for (const name of install.regions) expect(signed[name].seq).toBeGreaterThan(deployed.seq);
    // The goals on the hub are those documents, and every machine runs the first build again, under them.
    const goals = await install.cluster.rawKv(install.cluster.urls.hub, 'goal');
    for (const name of install.regions) {
      const goal = JSON.parse(new TextDecoder().decode((await goals.get(`web.${name}`))!.value));
      expect(goal).toMatchObject({ build: builds.first!.id, kind: 'rollback', seq: signed[name].seq, sig: { key: install.keys.key.keyId } });
    }
    const reports = await install.cluster.rawKv(install.cluster.urls.leaves.eu!, 'status-eu');
    await eventually(async () => {
      const mine = await Promise.all(['eu-1', 'eu-2'].map(async (m) => JSON.parse(new TextDecoder().decode((await reports.get(`web.${m}`))!.value))));
      return mine.every((r) => r.state === 'running' && r.build === builds.first!.id && r.seq === signed.eu.seq && r.digest === builds.first!.digest);
    }, 60_000, 'the eu machines running the rollback goal');

    await mariadb.startServer();
    mariadbDown = false;
    // The spooled deployment reaches SQL with what was signed, and converges against it.
    const deployment = await eventually(async () => {
      const list = await install.json(['deployments', 'web']);
      const newest = (list.deployments ?? list)[0];
      // Not yet (undefined) until the rollback is recorded and has converged.
      return newest?.kind === 'rollback' && newest.convergedAt ? newest : undefined;
    }, 60_000, 'the rollback recorded and converged');
    expect(deployment.waves[0].goals).toEqual(signed);
    const writes = (await audit('web')).filter((row) => row.action === 'goal-write' && JSON.parse(String(row.detail)).withoutDatabase);
    expect(writes.map((row) => JSON.parse(String(row.detail)).seq).sort()).toEqual(install.regions.map((name) => signed[name].seq).sort());
  }, 180_000);
});
