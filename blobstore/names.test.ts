import { describe, expect, it } from 'vitest';
import { artifactObjectName, logObjectName, mainBucketName, parseArtifactObjectName, regionBucketName, validateBucketName } from './names.ts';
import { validateListPrefix, validateObjectName } from './object-name.ts';
import { expectCode } from '../test/support/blob-stores.ts';

const digest = 'ab'.repeat(32);
const sync = (fn: () => unknown): Promise<unknown> => new Promise((resolve) => resolve(fn()));

describe('bucket and object names', () => {
  it('names the main and regional buckets after DESIGN.md', () => {
    expect(mainBucketName()).toBe('fleetcast-main');
    expect(regionBucketName('eu-west')).toBe('fleetcast-eu-west');
    expect(mainBucketName('acme')).toBe('acme-main');
    expect(regionBucketName('us1', 'acme')).toBe('acme-us1');
  });

  it('refuses bucket names GCS or a filesystem would not take, and a region that would share the main bucket', async () => {
    await expectCode(sync(() => regionBucketName('main')), 'INVALID_INPUT');
    await expectCode(sync(() => regionBucketName('EU')), 'INVALID_INPUT');
    await expectCode(sync(() => regionBucketName('eu/west')), 'INVALID_INPUT');
    await expectCode(sync(() => mainBucketName('Acme')), 'INVALID_INPUT');
    await expectCode(sync(() => mainBucketName('../x')), 'INVALID_INPUT');
    await expectCode(sync(() => mainBucketName('x'.repeat(60))), 'INVALID_INPUT');
    for (const bad of ['ab', '-abc', 'abc-', 'a..b', 'a/b', 'UPPER']) await expectCode(sync(() => validateBucketName(bad)), 'INVALID_INPUT');
    expect(validateBucketName('fleetcast-main')).toBe('fleetcast-main');
  });

  it('derives artifact and log names from the build, accepting 42, "42" and "b42"', () => {
    expect(artifactObjectName('api', 42, digest)).toBe(`artifacts/api/b42/${digest}`);
    expect(artifactObjectName('api-gw', 'b42', digest)).toBe(`artifacts/api-gw/b42/${digest}`);
    expect(logObjectName('api', '42')).toBe('logs/api/b42.log');
    expect(validateObjectName(artifactObjectName('a', 1, digest))).toBeTruthy();
    expect(validateObjectName(logObjectName('a', 1))).toBeTruthy();
  });

  it('reads service, build and digest back from an artifact name, and nothing from other names', () => {
    expect(parseArtifactObjectName(artifactObjectName('api-gw', 42, digest))).toEqual({ service: 'api-gw', buildId: 42, digest });
    for (const other of [logObjectName('api', 1), `artifacts/api/b0/${digest}`, `artifacts/API/b1/${digest}`, `artifacts/api/b1/${digest}/x`, 'artifacts/api/b1/abc']) {
      expect(parseArtifactObjectName(other)).toBeUndefined();
    }
  });

  it('refuses services, build ids and digests that are not what builds have', async () => {
    for (const service of ['', 'API', '1api', '../etc', 'a/b', 'a'.repeat(64), 'api_gw']) {
      await expectCode(sync(() => artifactObjectName(service, 1, digest)), 'INVALID_INPUT');
      await expectCode(sync(() => logObjectName(service, 1)), 'INVALID_INPUT');
    }
    for (const build of [0, -1, 1.5, 'b0', 'x42', '42/..', '', 'b99999999999999999']) {
      await expectCode(sync(() => artifactObjectName('api', build, digest)), 'INVALID_INPUT');
    }
    for (const bad of ['AB'.repeat(32), 'ab'.repeat(31), 'ab'.repeat(33), '../'.repeat(21) + 'a']) {
      await expectCode(sync(() => artifactObjectName('api', 1, bad)), 'INVALID_INPUT');
    }
  });

  it('accepts the object names callers use and list prefixes that stop mid-segment', () => {
    for (const name of ['artifacts/api/b42/' + digest, 'logs/api/b42.log', 'a', 'a_b/c-d/e.f']) expect(validateObjectName(name)).toBe(name);
    for (const prefix of ['', 'artifacts/', 'artifacts/api/b4', 'logs']) expect(validateListPrefix(prefix)).toBe(prefix);
  });

  it('explains what is wrong with a bad object name', async () => {
    expect((await expectCode(sync(() => validateObjectName('a/../b')), 'INVALID_INPUT')).message).toMatch(/"\.\." segments are not allowed/);
    expect((await expectCode(sync(() => validateObjectName('/abs')), 'INVALID_INPUT')).message).toMatch(/absolute paths/);
    expect((await expectCode(sync(() => validateObjectName('a//b')), 'INVALID_INPUT')).message).toMatch(/empty path segment/);
    expect((await expectCode(sync(() => validateObjectName('a/.hidden')), 'INVALID_INPUT')).message).toMatch(/not start with "\."/);
    expect((await expectCode(sync(() => validateObjectName('x'.repeat(1025))), 'INVALID_INPUT')).message).toMatch(/longer than 1024/);
    expect((await expectCode(sync(() => validateObjectName('caf\u00e9')), 'INVALID_INPUT')).message).toMatch(/only letters, digits/);
  });
});
