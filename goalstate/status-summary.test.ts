import { describe, expect, it } from 'vitest';
import { FleetcastError } from '../errors/index.ts';
import { decodeStatus, encodeStatus, type StatusReport } from './status-document.ts';
import { summarizeService, type StatusEntry } from './status-summary.ts';

const now = Date.parse('2026-01-01T12:00:00Z');

function entry(machine: string, state: StatusReport['state'], build: string | null, ageMs = 0, extra: Partial<StatusReport> = {}): StatusEntry {
  return {
    report: { v: 1, machine, service: 'api', build, state, bytes: 0, total: 0, peers: 0, error: null, at: new Date(now - ageMs).toISOString(), ...extra },
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
    expect(summarizeService('eu', 'api', entries, { goalBuild: 'b2', nowMs: now, silentAfterMs: 90_000, maxExamples: 1 })).toEqual({
      region: 'eu',
      service: 'api',
      goalBuild: 'b2',
      machines: 10,
      running: 2,
      downloading: { machines: 2, bytes: 130, total: 200 },
      failed: { machines: 2, examples: [{ machine: 'e', build: 'b2', error: 'digest mismatch', at: new Date(now).toISOString() }] },
      silent: 1,
      other: 3,
      runningBuilds: { b2: 2, b1: 1 },
    });
  });

  it('counts every build when there is no goal build', () => {
    const s = summarizeService('eu', 'api', entries, { goalBuild: null, nowMs: now, silentAfterMs: 90_000 });
    expect(s).toMatchObject({ running: 3, failed: { machines: 3 }, other: 1, silent: 1 });
  });
});

describe('status documents', () => {
  it('round-trip, and malformed ones are GOAL_INVALID', () => {
    const report = entry('m1', 'running', 'b2').report;
    expect(decodeStatus(encodeStatus(report), 'api.m1')).toEqual(report);
    expect(() => decodeStatus(encodeStatus(report), 'api.m2')).toThrow(/the report is for api\.m1/);
    expect(() => decodeStatus(new TextEncoder().encode('{'), 'api.m1')).toThrow(FleetcastError);
    expect(() => encodeStatus({ ...report, state: 'exploded' as 'idle' })).toThrow(/invalid status report/);
  });
});
