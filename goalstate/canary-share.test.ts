import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { FleetcastError } from '../errors/index.ts';
import { formatWaveTarget, inShare, isValidShare, parseWaveTarget, sharePoint, wavePlanProblem } from './canary-share.ts';

function thrown(fn: () => unknown): FleetcastError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FleetcastError) return err;
    throw err;
  }
  throw new Error('expected a FleetcastError');
}

const machines = Array.from({ length: 10_000 }, (_, i) => `m-${i}`);

describe('canary shares of a region', () => {
  it('membership is a hash of service and machine: the same answer every time, another service picks other machines', () => {
    const first = machines.filter((m) => inShare('api', m, 10));
    expect(machines.filter((m) => inShare('api', m, 10))).toEqual(first);
    const other = machines.filter((m) => inShare('web', m, 10));
    expect(other).not.toEqual(first);
    expect(sharePoint('api', 'm-1')).toBe(sharePoint('api', 'm-1'));
    // sha256("api\nm-1"), first 32 bits: fixed by the algorithm, so agents and coordinators of any version agree.
    expect(sharePoint('api', 'm-1')).toBe(Number.parseInt(createHash('sha256').update('api\nm-1').digest('hex').slice(0, 8), 16));
  });

  it('a share takes about that share of a large region', () => {
    for (const share of [1, 10, 25, 50]) {
      const count = machines.filter((m) => inShare('api', m, share)).length;
      expect(Math.abs(count - share * 100)).toBeLessThan(share * 100 * 0.2 + 20);
    }
  });

  it('shares nest: every machine in 1 % is in 5 %, every one in 5 % in 25 %', () => {
    const one = machines.filter((m) => inShare('api', m, 1));
    const five = new Set(machines.filter((m) => inShare('api', m, 5)));
    const quarter = new Set(machines.filter((m) => inShare('api', m, 25)));
    expect(one.length).toBeGreaterThan(0);
    expect(one.every((m) => five.has(m))).toBe(true);
    expect([...five].every((m) => quarter.has(m))).toBe(true);
  });

  it('reads eu and eu:25% (two decimals at most, above 0 and below 100)', () => {
    expect(parseWaveTarget('eu', 'x')).toEqual({ region: 'eu', share: null });
    expect(parseWaveTarget(' eu:25% ', 'x')).toEqual({ region: 'eu', share: 25 });
    expect(parseWaveTarget('us-east:0.5%', 'x')).toEqual({ region: 'us-east', share: 0.5 });
    expect(formatWaveTarget({ region: 'eu', share: 0.25 })).toBe('eu:0.25%');
    expect(isValidShare(12.5)).toBe(true);
    expect(isValidShare(0)).toBe(false);
    expect(isValidShare(100)).toBe(false);
    expect(isValidShare(0.001)).toBe(false);
  });

  it('refuses a share it cannot read, with a code and what to write instead', () => {
    const cases: [string, RegExp][] = [
      ['eu:0%', /more than 0 % and less than 100 %/],
      ['eu:0.00%', /more than 0 % and less than 100 %/],
      ['eu:100%', /write eu alone for the whole region/],
      ['eu:25', /not a share of eu; write it as a percentage/],
      ['eu:1.234%', /at most two decimals/],
      ['eu:abc%', /not a share of eu/],
      ['EU:5%', /does not start with a region name/],
      [':5%', /does not start with a region name/],
    ];
    for (const [token, message] of cases) {
      const err = thrown(() => parseWaveTarget(token, '--waves'));
      expect(err.code, token).toBe('INVALID_INPUT');
      expect(err.message, token).toMatch(message);
      expect(err.message).toMatch(/^--waves: /);
    }
    expect(thrown(() => parseWaveTarget('eu:0%', 'FLEETCAST_DEPLOY_WAVES', 'CONFIG_INVALID')).code).toBe('CONFIG_INVALID');
  });

  it('checks the words of a wave plan (regions are checked by the coordinator, which knows them)', () => {
    for (const plan of ['canary', 'all', 'eu', 'eu:1%;eu;us,ap', 'eu:1%,us:1%;eu,us']) expect(wavePlanProblem(plan), plan).toBeNull();
    expect(wavePlanProblem('eu;;us')).toMatch(/write canary, all, or waves/);
    expect(wavePlanProblem('eu:150%;eu')).toMatch(/less than 100 %/);
  });
});
