import { describe, expect, it } from 'vitest';
import { FleetcastError } from '../errors/index.ts';
import { generateSigningKey, signingKeyFromPem } from '../trust/index.ts';
import { sampleGoal } from '../test/support/sample-goal.ts';
import { GoalLedger, type GoalSeqStore, type GoalUpdate, type SeqRecord } from './goal-ledger.ts';
import { signGoal } from './goal-signer.ts';

const key = signingKeyFromPem(generateSigningKey().privatePem);
const at = '2026-12-07T12:00:00.000Z';
/** The signed goal of build b<n> at sequence `seq` (the same document each time: a fixed time). */
const update = (n: number, seq: number, revision = n): GoalUpdate => ({ service: 'api', region: 'eu', goal: signGoal(sampleGoal('api', 'eu', n, { at }), 'goal', seq, key), revision, storedAt: new Date() });
/** What the ledger would deliver now, emptying it: accepted builds and refusal codes. */
function drain(ledger: GoalLedger): string[] {
  const out = [...ledger.dirty].map((service) => `goal ${ledger.known.get(service)!.goal?.build ?? 'deleted'}`);
  ledger.dirty.clear();
  out.push(...[...ledger.refusals.values()].map((err) => `refused ${err.code}`));
  ledger.refusals.clear();
  return out;
}

describe('GoalLedger: documents ordered by their signed sequence, not by where a mirror puts them', () => {
  it('delivers a higher sequence, skips the same document again, refuses a lower one as replayed', () => {
    const ledger = new GoalLedger('goal', undefined);
    ledger.offer(update(1, 100));
    expect(drain(ledger)).toEqual(['goal b1']);
    ledger.offer(update(2, 200));
    expect(drain(ledger)).toEqual(['goal b2']);
    // A watch restarting replays the current value: nothing to do.
    ledger.offer(update(2, 200));
    expect(drain(ledger)).toEqual([]);
    // The old b1 document at a higher revision (a mirror someone writes): a replay.
    ledger.offer({ ...update(1, 100), revision: 99 });
    expect(drain(ledger)).toEqual(['refused GOAL_REPLAYED']);
    expect(ledger.seq('api')).toBe(200);
  });

  it('after a refusal the current document is delivered again (the mirror was repaired), and a newer one wins over a pending refusal', () => {
    const ledger = new GoalLedger('goal', undefined);
    const current = update(2, 200);
    ledger.offer(current);
    drain(ledger);
    ledger.refuse('api', new FleetcastError('GOAL_SIGNATURE_INVALID', 'forged'));
    ledger.offer(current);
    expect(drain(ledger)).toEqual(['goal b2']);
    // A refusal then, before delivery, a newer signed goal: the goal, not the stale refusal.
    ledger.refuse('api', new FleetcastError('GOAL_SIGNATURE_INVALID', 'forged'));
    ledger.offer(update(3, 300));
    expect(drain(ledger)).toEqual(['goal b3']);
  });

  it('a deletion carries no sequence: passed on only when newer in the bucket; a replay after it is still refused', () => {
    const ledger = new GoalLedger('goal', undefined);
    ledger.offer(update(2, 200, 5));
    drain(ledger);
    ledger.offer({ service: 'api', region: 'eu', goal: null, revision: 6, storedAt: new Date() });
    expect(drain(ledger)).toEqual(['goal deleted']);
    ledger.offer(update(1, 100, 7));
    expect(drain(ledger)).toEqual(['refused GOAL_REPLAYED']);
  });

  it('starts from the sequences its store kept: a restarted reader refuses a replay and takes its current goal once', () => {
    const records = new Map<string, SeqRecord>();
    const store: GoalSeqStore = { load: () => new Map(records), record: async (service, record) => void records.set(service, record) };
    const current = update(2, 200);
    records.set('api', { seq: 200, sig: current.goal!.sig.value });
    const ledger = new GoalLedger('goal', store);
    ledger.offer(update(1, 100));
    expect(drain(ledger)).toEqual(['refused GOAL_REPLAYED']);
    ledger.offer(current);
    expect(drain(ledger)).toEqual(['goal b2']);
    // The same sequence with another signature is another document: refused too.
    const other = signGoal(sampleGoal('api', 'eu', 9, { at }), 'goal', 200, key);
    ledger.offer({ ...current, goal: other });
    expect(drain(ledger)).toEqual(['refused GOAL_REPLAYED']);
  });
});
