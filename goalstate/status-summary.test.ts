import { describe, expect, it } from 'vitest';
import { FleetcastError } from '../errors/index.ts';
import { decodeStatus, encodeStatus, type StatusReport } from './status-document.ts';
import { summarizeService, type GoalTarget, type StatusEntry } from './status-summary.ts';

const now = Date.parse('2026-01-01T12:00:00Z');
const b2: GoalTarget = { build: 'b2', digest: '2'.repeat(64), seq: 1_767_268_800_000 };

/** A report; a running one of b2 says it applied the b2 goal (its digest and sequence) unless `extra` says otherwise. */
function entry(machine: string, state: StatusReport['state'], build: string | null, ageMs = 0, extra: Partial<StatusReport> = {}): StatusEntry {
  const applied = state === 'running' && build === 'b2' ? { digest: b2.digest, seq: b2.seq } : { digest: null, seq: null };
  return {
    report: { v: 1, machine, service: 'api', build, state, bytes: 0, total: 0, peers: 0, error: null, at: new Date(now - ageMs).toISOString(), refusal: null, refusals: 0, cached: [], ...applied, ...extra },
    storedAtMs: now - ageMs,
  };
}

describe('summarizeService', () => {
  const entries = [
    entry('a', 'running', 'b2'),
    entry('b', 'running', 'b2'),
    entry('c', 'downloading', 'b2', 0, { bytes: 30, total: 100 }),
    entry('d', 'installing', 'b2', 0, { bytes: 100, total: 100 }),
    entry('e', 'failed', 'b2', 0, { error: 'digest mismatch' }),
    entry('f', 'failed', 'b2', 0, { error: 'disk full' }),
    entry('g', 'running', 'b1'),
    entry('h', 'idle', null),
    entry('i', 'running', 'b2', 91_000),
    entry('j', 'failed', 'b1'),
  ];

  it('counts against the goal build, silence by the server time of the last report', () => {
    expect(summarizeService('eu', 'api', entries, { goal: b2, nowMs: now, silentAfterMs: 90_000, maxExamples: 1 })).toEqual({
      region: 'eu',
      service: 'api',
      goalBuild: 'b2',
      goalDigest: b2.digest,
      goalSeq: b2.seq,
      machines: 10,
      running: 2,
      mismatched: 0,
      refused: { machines: 0, codes: {}, examples: [] },
      downloading: { machines: 2, bytes: 130, total: 200 },
      failed: { machines: 2, examples: [{ machine: 'e', build: 'b2', error: 'digest mismatch', at: new Date(now).toISOString() }] },
      silent: 1,
      other: 3,
      runningBuilds: { b2: 2, b1: 1 },
      holding: 0,
      runningDigests: [{ build: 'b2', digest: b2.digest, machines: 2 }],
    });
  });

  it('counts every build when there is no goal build', () => {
    const s = summarizeService('eu', 'api', entries, { goal: null, nowMs: now, silentAfterMs: 90_000 });
    expect(s).toMatchObject({ running: 3, failed: { machines: 3 }, other: 1, silent: 1 });
  });

  it('counts a machine as running the goal only with its digest and sequence: a faked or stale report is mismatched', () => {
    const reports = [
      entry('honest', 'running', 'b2'),
      entry('wrong-digest', 'running', 'b2', 0, { digest: 'e'.repeat(64) }),
      entry('old-seq', 'running', 'b2', 0, { seq: b2.seq! - 1 }),
      entry('no-proof', 'running', 'b2', 0, { digest: null, seq: null }),
    ];
    expect(summarizeService('eu', 'api', reports, { goal: b2, nowMs: now, silentAfterMs: 90_000 })).toMatchObject({ machines: 4, running: 1, mismatched: 3, other: 0 });
    // A wave not written in this region yet (no signed goal): nobody runs it.
    expect(summarizeService('eu', 'api', reports, { goal: { build: 'b2', digest: null, seq: null }, nowMs: now, silentAfterMs: 90_000 })).toMatchObject({ running: 0, mismatched: 4 });
  });

  it('counts machines refusing what their mirror holds, by code, besides what they run', () => {
    const refusal = (code: 'GOAL_SIGNATURE_INVALID' | 'GOAL_REPLAYED') => ({ refusal: { code, message: `${code} …`, purpose: 'goal' as const, at: new Date(now).toISOString() }, refusals: 1 });
    const reports = [entry('a', 'running', 'b2', 0, refusal('GOAL_SIGNATURE_INVALID')), entry('b', 'running', 'b2', 0, refusal('GOAL_SIGNATURE_INVALID')), entry('c', 'running', 'b1', 0, refusal('GOAL_REPLAYED')), entry('d', 'running', 'b2')];
    expect(summarizeService('eu', 'api', reports, { goal: b2, nowMs: now, silentAfterMs: 90_000, maxExamples: 2 })).toMatchObject({
      running: 3,
      other: 1,
      refused: { machines: 3, codes: { GOAL_SIGNATURE_INVALID: 2, GOAL_REPLAYED: 1 }, examples: [{ machine: 'a', code: 'GOAL_SIGNATURE_INVALID' }, { machine: 'b' }] },
    });
  });
});

describe('holding and reported digests', () => {
  it('counts machines holding the goal build in cache apart from those running or failed on it, and the digests running machines report', () => {
    const reports = [
      entry('runs', 'running', 'b2', 0, { cached: ['b2', 'b1'] }),
      entry('holds-runs-b1', 'running', 'b1', 0, { cached: ['b1', 'b2'], digest: '1'.repeat(64), seq: 5 }),
      entry('holds-idle', 'idle', null, 0, { cached: ['b2'] }),
      entry('failed', 'failed', 'b2', 0, { cached: ['b2'] }),
      entry('forged', 'running', 'b2', 0, { digest: 'e'.repeat(64) }),
      entry('without', 'running', 'b1', 0, { cached: ['b1'], digest: '1'.repeat(64), seq: 5 }),
      entry('silent-holder', 'idle', null, 91_000, { cached: ['b2'] }),
    ];
    expect(summarizeService('eu', 'api', reports, { goal: b2, nowMs: now, silentAfterMs: 90_000 })).toMatchObject({
      running: 1,
      holding: 2,
      failed: { machines: 1 },
      silent: 1,
      runningDigests: [
        { build: 'b1', digest: '1'.repeat(64), machines: 2 },
        { build: 'b2', digest: '2'.repeat(64), machines: 1 },
        { build: 'b2', digest: 'e'.repeat(64), machines: 1 },
      ],
    });
    expect(summarizeService('eu', 'api', reports, { goal: null, nowMs: now, silentAfterMs: 90_000 }).holding).toBe(0);
  });
});

describe('status documents', () => {
  it('read reports of agents from before signed goals, without digest, sequence or refusals', () => {
    const { digest: _d, seq: _s, refusal: _r, refusals: _n, cached: _c, ...older } = entry('m1', 'running', 'b2').report;
    expect(decodeStatus(new TextEncoder().encode(JSON.stringify(older)), 'api.m1')).toMatchObject({ digest: null, seq: null, refusal: null, refusals: 0, cached: [] });
  });

  it('round-trip, and malformed ones are GOAL_INVALID', () => {
    const report = entry('m1', 'running', 'b2').report;
    expect(decodeStatus(encodeStatus(report), 'api.m1')).toEqual(report);
    expect(() => decodeStatus(encodeStatus(report), 'api.m2')).toThrow(/the report is for api\.m1/);
    expect(() => decodeStatus(new TextEncoder().encode('{'), 'api.m1')).toThrow(FleetcastError);
    expect(() => encodeStatus({ ...report, state: 'exploded' as 'idle' })).toThrow(/invalid status report/);
  });
});
