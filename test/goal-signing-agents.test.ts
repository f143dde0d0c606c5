// Agents run only what the coordinator signed. Real agents (in this process, on their own agent
// dirs and NATS connections) on a real hub and leaves; the attacker holds the region leaf's
// admin credentials — what a seeder has — and replaces the goal mirror with a plain stream it
// can write. Forged, altered, misplaced and replayed documents are refused: nothing is fetched,
// installed or run, the machine keeps its build and says why in its status. Then the signing key
// is rotated without restarting the agents or the coordinator's readers.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGoal, GoalWriter, recreateGoalMirror, signGoal, type Goal, type StatusReport } from '../goalstate/index.ts';
import { generateSigningKey, signingKeyFromPem } from '../trust/index.ts';
import type { TestArtifact } from './support/agent-artifacts.ts';
import { eventually } from './support/eventually.ts';
import { fastConnect, TestFleet, type TestAgent } from './support/agent-fleet.ts';
import { MirrorAttacker } from './support/mirror-attack.ts';

const regions = ['eu', 'us'];
let fleet: TestFleet;
let attacker: MirrorAttacker;
let agent: TestAgent;
let b1: TestArtifact;
let b2: TestArtifact;
/** Every document the coordinator signed for api.eu, oldest first (what an attacker could have copied). */
const signed: Goal[] = [];

const running = (build: string) => (r: StatusReport) => r.state === 'running' && r.build === build;
const refusing = (code: string) => (r: StatusReport) => r.refusal?.code === code;

async function deploy(artifact: TestArtifact, overrides: Parameters<TestArtifact['goal']>[1] = {}): Promise<Goal> {
  const { goal } = await fleet.deploy(artifact.goal('eu', { runCommand: 'sh ./api', ...overrides }));
  signed.push(goal);
  return goal;
}

/** The mirror made a mirror of the hub again (what the coordinator's mirror check does), and the agent back on the signed goal. */
async function repairMirror(): Promise<void> {
  const hub = await fleet.cluster.rawConnect(fleet.cluster.urls.hub);
  await recreateGoalMirror(hub, 'eu', { timeoutMs: 5_000 });
  await fleet.reportOf('eu', 'api', agent.machine, (r) => r.refusal === null, 30_000);
}

/** What the machine holds: no trace of the forged build, the same build running, the same processes. */
function expectUntouched(build: string, runsBefore: number): void {
  expect(agent.current('api')).toBe(`builds/${build}`);
  expect(agent.runs('api')).toHaveLength(runsBefore);
  expect(fs.existsSync(path.join(agent.serviceDir('api'), 'builds', 'b666'))).toBe(false);
  expect(fs.existsSync(path.join(agent.dir, 'pwned'))).toBe(false);
}

beforeAll(async () => {
  fleet = await TestFleet.start(regions);
  attacker = new MirrorAttacker(fleet.cluster, fleet.cluster.urls.leaves.eu!, 'eu');
  b1 = await fleet.artifact('api', 1, 200_000);
  b2 = await fleet.artifact('api', 2, 200_000);
  agent = await fleet.startAgent('eu', 'eu-m1', { env: { FLEETCAST_AGENT_SERVICES: 'api' } });
  await deploy(b1);
  await fleet.reportOf('eu', 'api', agent.machine, running('b1'));
}, 60_000);

afterAll(async () => {
  await fleet?.stop();
});

describe('a goal mirror written by someone else', () => {
  it('a forged goal (unsigned, signed by another key, or a real one with its run command changed) is refused: nothing is fetched or run', async () => {
    const runsBefore = agent.runs('api').length;
    const readsBefore = agent.reads.length;
    await attacker.replaceMirror();
    const current = signed.at(-1)!;
    // A real build's bytes under a made-up build id, with the attacker's command.
    const evil = { ...b1.goal('eu'), build: 'b666', deployment: 'd666', runCommand: 'touch ../../../../pwned; sh ./api' };
    const stranger = signingKeyFromPem(generateSigningKey().privatePem);
    const cases: [string, unknown, string][] = [
      ['unsigned', { v: 2, purpose: 'goal', ...evil, seq: current.seq + 10 }, 'it carries no signature'],
      ['another key', signGoal(evil, 'goal', current.seq + 20, stranger), `signed by key ${stranger.keyId}, which this reader does not trust`],
      ['run command changed under the original signature', { ...current, runCommand: evil.runCommand }, 'its signature does not match its content'],
      ['version 1 (before goals were signed)', { v: 1, ...evil }, 'unsigned version-1 document'],
    ];
    for (const [i, [what, document, why]] of cases.entries()) {
      await attacker.write('api.eu', document);
      const report = await fleet.reportOf('eu', 'api', agent.machine, (r) => refusing('GOAL_SIGNATURE_INVALID')(r) && r.refusals > i, 30_000);
      expect(report, what).toMatchObject({ state: 'running', build: 'b1', digest: b1.digest, seq: current.seq, refusal: { code: 'GOAL_SIGNATURE_INVALID', purpose: 'goal' } });
      expect(report.refusal!.message, what).toContain(why);
    }
    expectUntouched('b1', runsBefore);
    // Nothing was fetched for any of them.
    expect(agent.reads.slice(readsBefore)).toEqual([]);
    await repairMirror();
    expectUntouched('b1', runsBefore);
  });

  it('a signed prefetch hint copied into the goal key, or another region\'s goal, is refused', async () => {
    const hint = (await fleet.writer.putPrefetch(b2.goal('eu', { runCommand: 'sh ./api', deployment: 'd2' }))).goal;
    const us = (await fleet.deploy(b2.goal('us', { runCommand: 'sh ./api', deployment: 'd2' }))).goal;
    const runsBefore = agent.runs('api').length;
    await attacker.replaceMirror();
    for (const [n, document] of [hint, us].entries()) {
      await attacker.write('api.eu', document);
      const report = await fleet.reportOf('eu', 'api', agent.machine, (r) => refusing('GOAL_SIGNATURE_INVALID')(r) && r.refusal!.message.includes(n === 0 ? 'prefetch hint api_prefetch.eu' : 'goal api.us'), 30_000);
      expect(report).toMatchObject({ build: 'b1', state: 'running' });
    }
    expect(agent.current('api')).toBe('builds/b1');
    expect(agent.runs('api')).toHaveLength(runsBefore);
    await repairMirror();
  });

  it('an old validly signed goal replayed is refused (GOAL_REPLAYED), also by the agent after a restart', async () => {
    await deploy(b2);
    await fleet.reportOf('eu', 'api', agent.machine, running('b2'), 30_000);
    const runsBefore = agent.runs('api').length;
    const old = signed.find((goal) => goal.build === 'b1')!;
    await attacker.replaceMirror();
    await attacker.write('api.eu', old);
    const report = await fleet.reportOf('eu', 'api', agent.machine, refusing('GOAL_REPLAYED'), 30_000);
    expect(report).toMatchObject({ state: 'running', build: 'b2', digest: b2.digest, seq: signed.at(-1)!.seq });
    expect(report.refusal!.message).toContain(`its sequence ${old.seq}`);
    expect(agent.current('api')).toBe('builds/b2');

    // A restarted agent reads its highest sequence from disk: the replay is still refused, b2 keeps running.
    await agent.stopAgentOnly();
    expect(JSON.parse(fs.readFileSync(path.join(agent.serviceDir('api'), 'goal-seq.json'), 'utf8'))).toMatchObject({ seq: signed.at(-1)!.seq });
    agent = await fleet.startAgent('eu', 'eu-m1', { env: { FLEETCAST_AGENT_SERVICES: 'api' } });
    await fleet.reportOf('eu', 'api', agent.machine, (r) => refusing('GOAL_REPLAYED')(r) && r.refusals === 1, 30_000);
    expect(agent.current('api')).toBe('builds/b2');
    expect(agent.runs('api')).toHaveLength(runsBefore); // the running process was adopted, not restarted
    await repairMirror();
    const after = await fleet.reportOf('eu', 'api', agent.machine, running('b2'));
    expect(after).toMatchObject({ digest: b2.digest, seq: signed.at(-1)!.seq, refusal: null });
  });
});

describe('rotating the goal-signing key', () => {
  it('agents and the coordinator\'s readers take the new key without a restart, and drop the old one', async () => {
    const oldKey = fleet.keys.key;
    const next = generateSigningKey();
    const nextKey = signingKeyFromPem(next.privatePem);
    // 1. Every reader trusts both keys (they re-read the file within a second).
    fs.writeFileSync(fleet.keys.publicFile, `${oldKey.publicKey}\n${nextKey.publicKey}\n`);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    // 2. The coordinator signs with the new key (its key file re-read, no restart).
    fs.writeFileSync(fleet.keys.privateFile, next.privatePem, { mode: 0o600 });
    const goal = await deploy(b1, { deployment: 'd30', kind: 'rollback' });
    expect(goal.sig.key).toBe(nextKey.keyId);
    await fleet.reportOf('eu', 'api', agent.machine, (r) => running('b1')(r) && r.seq === goal.seq, 30_000);
    expect((await fleet.writer.get('api', 'eu'))!.goal.seq).toBe(goal.seq);

    // 3. The old key is dropped: a document it signs is refused by the agent and by the coordinator's reader.
    fs.writeFileSync(fleet.keys.publicFile, `${nextKey.publicKey}\n`);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const byOldKey = signGoal(b2.goal('eu', { runCommand: 'sh ./api', deployment: 'd31' }), 'goal', goal.seq + 1, oldKey);
    const raw = await fleet.cluster.rawKv(fleet.cluster.urls.hub, 'goal');
    await raw.put('api.eu', encodeGoal(byOldKey));
    const report = await fleet.reportOf('eu', 'api', agent.machine, refusing('GOAL_SIGNATURE_INVALID'), 30_000);
    expect(report.refusal!.message).toContain(`signed by key ${oldKey.keyId}`);
    expect(report).toMatchObject({ build: 'b1', state: 'running' });
    await expect(fleet.writer.get('api', 'eu')).rejects.toMatchObject({ code: 'GOAL_SIGNATURE_INVALID', details: { problem: 'UNKNOWN_KEY' } });
    // A reader connected before the rotation (another coordinator) agrees, without a restart either.
    const other = await GoalWriter.connect({ url: fleet.cluster.urls.hub, regions, connect: fastConnect, keyring: fleet.keys.keyring });
    try {
      expect((await other.history('api', 'eu')).every((entry) => entry.goal.sig.key === nextKey.keyId)).toBe(true);
    } finally {
      await other.close();
    }
  });
});
