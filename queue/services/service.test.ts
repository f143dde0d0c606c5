import { describe, expect, it } from 'vitest';
import { validateServiceSpec } from './service.ts';

const spec = { name: 'api', repo: 'https://github.com/acme/api.git', buildCommand: 'make', artifactPath: 'out/api' };

describe('service specs', () => {
  it('default to the network on and no build settings', () => {
    expect(validateServiceSpec(spec)).toMatchObject({ buildNetwork: true, buildEnv: {}, branch: 'main' });
  });

  it('refuse repositories with passwords or unsafe transports, naming what to do', () => {
    expect(() => validateServiceSpec({ ...spec, repo: 'https://bot:hunter2@github.com/acme/api.git' })).toThrow(/repo: .*credential helper/);
    expect(() => validateServiceSpec({ ...spec, repo: 'ext::sh -c id' })).toThrow(/repo: the repository must be an https:\/\/ or ssh:\/\/ URL/);
  });

  it('refuse build settings the sandbox sets itself or that change how programs load', () => {
    for (const name of ['PATH', 'HOME', 'TMPDIR', 'LD_PRELOAD', 'FLEETCAST_OUT']) {
      expect(() => validateServiceSpec({ ...spec, buildEnv: { [name]: 'x' } }), name).toThrow(/set by the build sandbox/);
    }
    expect(validateServiceSpec({ ...spec, buildEnv: { NPM_TOKEN: 'x' } }).buildEnv).toEqual({ NPM_TOKEN: 'x' });
  });
});
