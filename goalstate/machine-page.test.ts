import { describe, expect, it } from 'vitest';
import { machinePage, type HeldReport } from './machine-page.ts';
import type { AgentState } from './status-document.ts';

const now = Date.parse('2026-12-08T10:00:00Z');
const silentAfter = 90_000;

function held(machine: string, service: string, state: AgentState, build: string | null, ageMs = 1_000): HeldReport {
  return {
    storedAtMs: now - ageMs,
    report: { v: 1, machine, service, build, state, bytes: 0, total: 0, peers: 0, error: state === 'failed' ? 'exited with code 3' : null, at: new Date(now - ageMs).toISOString(), digest: null, seq: null, refusal: null, refusals: 0, cached: [] },
  };
}

/** 10,000 machines of `api` (every 1,000th failed, every 2,500th silent) and a few of `web`. */
function region(): Map<string, Map<string, HeldReport>> {
  const api = new Map<string, HeldReport>();
  for (let i = 0; i < 10_000; i++) {
    const name = `m${String(i).padStart(5, '0')}`;
    api.set(name, i % 2_500 === 7 ? held(name, 'api', 'running', 'b1', 5 * 60_000) : i % 1_000 === 3 ? held(name, 'api', 'failed', 'b2') : held(name, 'api', 'running', i < 5_000 ? 'b2' : 'b1'));
  }
  const web = new Map([['w1', held('w1', 'web', 'running', 'b9')]]);
  return new Map([['api', api], ['web', web]]);
}

describe('machinePage', () => {
  it('finds the failed machines among 10,000, in name order; a silent machine counts as silent, not by its last state', () => {
    const page = machinePage(region(), { service: 'api', state: 'failed', limit: 100 }, silentAfter, now);
    expect(page.machines.map((m) => m.machine)).toEqual(['m00003', 'm01003', 'm02003', 'm03003', 'm04003', 'm05003', 'm06003', 'm07003', 'm08003', 'm09003']);
    expect(page.machines[0]).toMatchObject({ service: 'api', build: 'b2', state: 'failed', silent: false, error: 'exited with code 3' });
    expect(page.next).toBeNull();
    const silent = machinePage(region(), { state: 'silent', limit: 100 }, silentAfter, now);
    expect(silent.machines.map((m) => m.machine)).toEqual(['m00007', 'm02507', 'm05007', 'm07507']);
    expect(machinePage(region(), { state: 'running', build: 'b9', limit: 10 }, silentAfter, now).machines.map((m) => m.machine)).toEqual(['w1']);
  });

  it('pages with the cursor: every machine once, in order, and the last page says so', () => {
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = machinePage(region(), { service: 'api', build: 'b2', limit: 500, after }, silentAfter, now);
      seen.push(...page.machines.map((m) => m.machine));
      after = page.next ?? undefined;
      pages++;
    } while (after !== undefined);
    // 4,998 running b2 (two of the first 5,000 are silent on b1) and the 5 failed on b2 after them.
    expect(seen).toHaveLength(5_003);
    expect(new Set(seen).size).toBe(5_003);
    expect([...seen].sort()).toEqual(seen);
    expect(pages).toBe(11);
  });
});
