import { describe, expect, it } from 'vitest';
import { FleetcastError } from '../../errors/index.ts';
import { decodeWaves, defaultWaves, deploymentTarget, encodeWaves, newWaves, planRegions, planWaves, previewWaves } from './waves.ts';

const regions = ['eu', 'us', 'ap'];

function thrown(fn: () => unknown): FleetcastError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FleetcastError) return err;
    throw err;
  }
  throw new Error('expected a FleetcastError');
}

describe('wave plans with shares of a region', () => {
  it('a share of a region first, then all of it, then the rest', () => {
    expect(defaultWaves('eu:1%;eu;us,ap', regions)).toEqual([['eu:1%'], ['eu'], ['us', 'ap']]);
    // Regions not named, and those named only by a share, go last together.
    expect(defaultWaves('eu:1%;us', regions)).toEqual([['eu:1%'], ['us'], ['eu', 'ap']]);
    expect(defaultWaves('eu:1%,us:5%;eu:10%;eu,us', regions)).toEqual([['eu:1%', 'us:5%'], ['eu:10%'], ['eu', 'us'], ['ap']]);
    // A single region may still start with a share of it.
    expect(defaultWaves('solo:25%', ['solo'])).toEqual([['solo:25%'], ['solo']]);
  });

  it('explicit waves: a region named only by a share is finished in one more wave', () => {
    expect(planWaves({ setting: 'canary', configured: regions, explicit: [['eu:25%'], ['eu'], ['us', 'ap']] })).toEqual([['eu:25%'], ['eu'], ['us', 'ap']]);
    expect(planWaves({ setting: 'canary', configured: regions, explicit: [['eu:25%'], ['us']] })).toEqual([['eu:25%'], ['us'], ['eu']]);
    expect(planWaves({ setting: 'canary', configured: regions, explicit: [[' eu:12.50% ']] })).toEqual([['eu:12.5%'], ['eu']]);
  });

  it("a service's own plan wins over the default, and is checked against the configured regions", () => {
    expect(planWaves({ setting: 'canary', configured: regions, servicePlan: { service: 'api', plan: 'ap:5%;ap;eu,us' } })).toEqual([['ap:5%'], ['ap'], ['eu', 'us']]);
    expect(planWaves({ setting: 'canary', configured: regions, explicit: [['us']], servicePlan: { service: 'api', plan: 'ap;eu' } })).toEqual([['us']]);
    // Status still answers (with the default plan); the deploy says why.
    expect(previewWaves('canary', regions, { service: 'api', plan: 'mars:5%' })).toEqual([['eu'], ['us', 'ap']]);
    const err = thrown(() => planWaves({ setting: 'canary', configured: regions, servicePlan: { service: 'api', plan: 'mars:5%' } }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toMatch(/the wave plan of service api names region mars, which is not configured/);
  });

  it('refuses plans that make no sense, with a coded error saying why', () => {
    const cases: [string[][], RegExp][] = [
      [[['eu:5%'], ['eu:5%']], /the shares of eu must grow from wave to wave \(5% then 5%\)/],
      [[['eu:10%'], ['eu:5%']], /must grow/],
      [[['eu'], ['eu:5%']], /names region eu twice \(eu:5% after all of it\)/],
      [[['eu:5%', 'eu']], /names region eu twice in one wave/],
      [[['eu:0%']], /more than 0 % and less than 100 %/],
      [[['eu:150%']], /write eu alone/],
      [[['mars:1%']], /region mars, which is not configured/],
    ];
    for (const [explicit, message] of cases) {
      const err = thrown(() => planWaves({ setting: 'canary', configured: regions, explicit }));
      expect(err.code, JSON.stringify(explicit)).toBe('INVALID_INPUT');
      expect(err.message, JSON.stringify(explicit)).toMatch(message);
    }
    expect(thrown(() => defaultWaves('eu:5%;eu:1%', regions)).code).toBe('CONFIG_INVALID');
  });

  it('the waves keep the shares (stored and read back); the regions are listed once', () => {
    const plan = [['eu:25%'], ['eu'], ['us', 'ap']];
    expect(planRegions(plan)).toEqual(['eu', 'us', 'ap']);
    const waves = newWaves(plan);
    expect(waves.map((w) => [w.regions, w.shares])).toEqual([
      [['eu'], { eu: 25 }],
      [['eu'], undefined],
      [['us', 'ap'], undefined],
    ]);
    expect(decodeWaves(encodeWaves(waves), planRegions(plan), 'ROLLING')).toEqual(waves);
  });

  it('what a machine must report: the last wave written in its region, with its share', () => {
    const waves = newWaves([['eu:25%'], ['eu'], ['us']]);
    expect(deploymentTarget('b2', waves, 'eu')).toEqual({ build: 'b2', digest: null, seq: null, share: null });
    waves[0] = { ...waves[0]!, status: 'CONVERGED', goals: { eu: { seq: 10, digest: 'a'.repeat(64), key: 'k' } } };
    expect(deploymentTarget('b2', waves, 'eu')).toEqual({ build: 'b2', digest: 'a'.repeat(64), seq: 10, share: 25 });
    waves[1] = { ...waves[1]!, status: 'WRITTEN', goals: { eu: { seq: 11, digest: 'a'.repeat(64), key: 'k' } } };
    expect(deploymentTarget('b2', waves, 'eu')).toEqual({ build: 'b2', digest: 'a'.repeat(64), seq: 11, share: null });
  });
});
