import { describe, expect, it } from 'vitest';
import { decodePlan, encodePlan, idempotencyKey, newPlan } from './plan.ts';
import { PlanBook } from './plan-book.ts';

const plan = () => newPlan({ kind: 'deploy', service: 'api', build: 'b4', regions: null, waves: null, user: 'U0ALICE' }, 1_000);

describe('plans', () => {
  it('travel in a button value and come back whole; anything else is refused', () => {
    const p = plan();
    expect(decodePlan(encodePlan(p))).toEqual(p);
    expect(idempotencyKey(p)).toBe(`slack-deploy-${p.id}`);
    expect(() => decodePlan('{"v":2}')).toThrow(/run the command again/);
    expect(() => decodePlan(undefined)).toThrow(/run the command again/);
  });

  it('run once however often they are confirmed; cancel and confirm exclude each other', async () => {
    const book = new PlanBook<string>();
    const p = plan();
    let runs = 0;
    const work = async () => `d${++runs}`;
    const first = book.confirm(p, 'U0ALICE', work);
    const second = book.confirm(p, 'U0ALICE', work);
    expect(first.first).toBe(true);
    expect(second).toMatchObject({ first: false, earlier: { state: 'confirmed', by: 'U0ALICE' } });
    expect(await (first as { result: Promise<string> }).result).toBe('d1');
    expect(runs).toBe(1);
    expect(book.cancel(p, 'U0BOB')).toMatchObject({ state: 'confirmed' });
    const other = plan();
    expect(book.cancel(other, 'U0BOB')).toBeNull();
    expect(book.confirm(other, 'U0ALICE', work)).toMatchObject({ first: false, earlier: { state: 'cancelled', by: 'U0BOB' } });
  });

  it('may be confirmed again after the work failed (nothing was done)', async () => {
    const book = new PlanBook<string>();
    const p = plan();
    const failed = book.confirm(p, 'U0ALICE', async () => {
      throw new Error('coordinator unreachable');
    });
    await expect((failed as { result: Promise<string> }).result).rejects.toThrow('unreachable');
    await Promise.resolve();
    expect(book.confirm(p, 'U0ALICE', async () => 'd9').first).toBe(true);
  });
});
