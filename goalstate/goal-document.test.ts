import { describe, expect, it } from 'vitest';
import { FleetcastError } from '../errors/index.ts';
import { decodeGoal, encodeGoal } from './goal-document.ts';
import { goalKey, statusKey, validateMachine, validateRegion, validateService } from './names.ts';
import { sampleGoal } from '../test/support/sample-goal.ts';

const bytes = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

function thrown(fn: () => unknown): FleetcastError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FleetcastError) return err;
    throw err;
  }
  throw new Error('expected a FleetcastError');
}

describe('goal documents', () => {
  it('round-trip a valid goal', () => {
    const goal = sampleGoal('api', 'eu', 42, { p2pKey: 'ab'.repeat(32), kind: 'rollback', reason: 'latency', runCommand: './api --port 8080', healthUrl: 'http://127.0.0.1:8080/healthz' });
    expect(decodeGoal(encodeGoal(goal), 'api.eu', 3)).toEqual(goal);
  });

  it('read a goal written before fileName, runCommand and healthUrl existed, with their defaults', () => {
    const { fileName: _f, runCommand: _r, healthUrl: _h, ...older } = sampleGoal('api', 'eu', 7);
    const decoded = decodeGoal(new TextEncoder().encode(JSON.stringify(older)), 'api.eu', 1);
    expect(decoded).toMatchObject({ build: 'b7', fileName: 'artifact', runCommand: null, healthUrl: null });
  });

  it('refuse to write an invalid goal, naming the fields', () => {
    const err = thrown(() => encodeGoal(sampleGoal('api', 'eu', 1, { build: '42', size: -1 })));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toContain('build: a build id such as b42');
    expect(err.message).toContain('size');
  });

  it('read whatever is malformed as GOAL_INVALID with key and revision', () => {
    const cases: [unknown, RegExp][] = [
      ['{nope', /not JSON/],
      [{ ...sampleGoal('api', 'eu', 1), v: 2 }, /unknown document version 2/],
      [{ ...sampleGoal('api', 'eu', 1), digest: 'ABC' }, /digest/],
      [sampleGoal('web', 'eu', 1), /the document is for web\.eu/],
      [null, /document/],
      [[1, 2], /document/],
    ];
    for (const [value, problem] of cases) {
      const err = thrown(() => decodeGoal(bytes(value), 'api.eu', 7));
      expect(err.code).toBe('GOAL_INVALID');
      expect(err.message).toMatch(problem);
      expect(err.details).toMatchObject({ key: 'api.eu', revision: 7 });
    }
  });

  it('ignore fields a newer writer of version 1 may add', () => {
    expect(decodeGoal(bytes({ ...sampleGoal('api', 'eu', 1), extra: true }), 'api.eu', 1)).not.toHaveProperty('extra');
  });
});

describe('names', () => {
  it('validate services, regions and machines as single subject tokens', () => {
    expect(goalKey('api', 'eu-west')).toBe('api.eu-west');
    expect(statusKey('api', 'web-1_a')).toBe('api.web-1_a');
    for (const bad of ['Api', '1api', 'a.b', 'a*', '', 'x'.repeat(64)]) expect(() => validateService(bad)).toThrow(/invalid service name/);
    for (const bad of ['EU', 'eu.west', '', 'hub']) expect(() => validateRegion(bad)).toThrow(/invalid region name/);
    for (const bad of ['web-1.eu', '-a', 'a>', '', 'm'.repeat(129)]) expect(() => validateMachine(bad)).toThrow(/invalid machine id/);
  });
});
