import crypto from 'node:crypto';
import hypercoreCrypto from 'hypercore-crypto';
import { describe, expect, it } from 'vitest';
import { generateSigningKey, issueP2PIdentity, p2pCertificate, VerifyingKeyring, verifyP2PIdentity } from './index.ts';
import type { SigningKey } from './ed25519-keys.ts';

function caKey(): SigningKey {
  const { privatePem, publicKey } = generateSigningKey();
  const privateKey = crypto.createPrivateKey(privatePem);
  return { keyId: new VerifyingKeyring(publicKey).keyIds()[0]!, privateKey, publicKey };
}

const inAnHour = () => new Date(Date.now() + 3_600_000);

describe('P2P identities', () => {
  it('an issued identity verifies from its certificate alone, and its secret key is the Noise key pair of its public key', () => {
    const ca = caKey();
    const identity = issueP2PIdentity({ role: 'agent', region: 'eu', machine: 'eu-17', notAfter: inAnHour() }, ca);
    const certificate = p2pCertificate(identity);
    expect(certificate).not.toHaveProperty('secretKey');
    expect(verifyP2PIdentity(JSON.parse(JSON.stringify(certificate)), new VerifyingKeyring(ca.publicKey))).toMatchObject({ ok: true, certificate: { region: 'eu', machine: 'eu-17' } });
    // The 64-byte secret key is seed + public key, as hypercore-crypto's keyPair(seed) gives it.
    const seed = Buffer.from(identity.secretKey, 'hex').subarray(0, 32);
    const pair = hypercoreCrypto.keyPair(seed);
    expect(Buffer.from(pair.publicKey).toString('hex')).toBe(identity.publicKey);
    expect(Buffer.from(pair.secretKey).toString('hex')).toBe(identity.secretKey);
  });

  it('refuses a certificate of another CA, a changed region, an expired one and a malformed one', () => {
    const ca = caKey();
    const keyring = new VerifyingKeyring(ca.publicKey);
    const stranger = issueP2PIdentity({ role: 'agent', region: 'eu', notAfter: inAnHour() }, caKey());
    expect(verifyP2PIdentity(p2pCertificate(stranger), keyring)).toMatchObject({ ok: false, problem: 'UNKNOWN_KEY' });
    const mine = p2pCertificate(issueP2PIdentity({ role: 'seeder', region: 'eu', notAfter: inAnHour() }, ca));
    expect(verifyP2PIdentity({ ...mine, region: 'us' }, keyring)).toMatchObject({ ok: false, problem: 'BAD_SIGNATURE' });
    const old = p2pCertificate(issueP2PIdentity({ role: 'agent', region: 'eu', notAfter: new Date(Date.now() - 1_000) }, ca));
    expect(verifyP2PIdentity(old, keyring)).toMatchObject({ ok: false, problem: 'EXPIRED' });
    expect(verifyP2PIdentity({ v: 1, role: 'agent' }, keyring)).toMatchObject({ ok: false, problem: 'MALFORMED' });
  });
});
