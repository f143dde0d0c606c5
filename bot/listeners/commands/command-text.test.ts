import { describe, expect, it } from 'vitest';
import { buildArg, commitArg, deployTargetArg, regionsArg, serviceArg, waveRegions, words } from './command-text.ts';

describe('command words', () => {
  it('read builds, regions, services and commits the way people type them', () => {
    expect(words('  b42   eu,us ')).toEqual(['b42', 'eu,us']);
    expect(buildArg('deploy', '42')).toBe('b42');
    expect(buildArg('deploy', 'B42')).toBe('b42');
    expect(regionsArg('deploy', ['eu,', 'us', 'eu'])).toEqual(['eu', 'us']);
    expect(regionsArg('deploy', [])).toBeUndefined();
    expect(serviceArg('status', 'api-2')).toBe('api-2');
    expect(commitArg('build', 'ABCDEF1')).toBe('abcdef1');
  });

  it('say what is wrong and show the usage', () => {
    expect(() => buildArg('deploy', 'latest')).toThrow('"latest" is not a build id (they look like b42). Usage: `/deploy BUILD [REGIONS]`');
    expect(() => regionsArg('deploy', ['EU'])).toThrow('"EU" is not a region name');
    expect(() => serviceArg('builds', undefined)).toThrow('name a service. Usage: `/builds SERVICE`');
    expect(() => commitArg('build', 'main')).toThrow('not a commit sha');
  });

  it('read waves with shares of a region; the coordinator judges their order', () => {
    expect(deployTargetArg('deploy', ['eu:1%;eu;us,ap'])).toEqual({ waves: [['eu:1%'], ['eu'], ['us', 'ap']] });
    expect(deployTargetArg('deploy', ['eu:5%'])).toEqual({ waves: [['eu:5%']] });
    expect(deployTargetArg('deploy', ['eu,us'])).toEqual({ regions: ['eu', 'us'] });
    expect(waveRegions([['eu:1%'], ['eu'], ['us', 'ap']])).toEqual(['eu', 'us', 'ap']);
    expect(() => deployTargetArg('deploy', ['eu:0%;eu'])).toThrow(/more than 0 % and less than 100 %.*Usage: `\/deploy/);
    expect(() => deployTargetArg('deploy', ['eu;eu'])).toThrow('a region is named in two waves');
  });
});
