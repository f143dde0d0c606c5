import crypto from 'node:crypto';
import { z } from 'zod';
import type { SigningKey } from './ed25519-keys.ts';
import { signDocument, verifyDocument, type DocumentSignature } from './signed-document.ts';
import type { VerifyingKeyring } from './verifying-keyring.ts';

/**
 * A machine's P2P identity, as `fleetcast creds issue agent|seeder` writes it: the Noise static
 * key pair its swarm connections use, and the fleet P2P CA's signature over who it is. Peers of a
 * region admit a connection only once the other side showed a valid certificate for the very key
 * the Noise handshake authenticated.
 */
export interface P2PIdentity {
  v: 1;
  role: 'agent' | 'seeder';
  region: string;
  /** null for a seeder that was not given a name. */
  machine: string | null;
  /** Hex of the 32-byte Ed25519 public key: the Hyperswarm/Noise static key. */
  publicKey: string;
  /** Hex of the 64-byte secret key (seed + public key, as hypercore-crypto's keyPair gives it). Never leaves the machine. */
  secretKey: string;
  /** ISO date after which peers refuse it. */
  notAfter: string;
  sig: DocumentSignature;
}

/** What a machine shows its peers: the identity without its secret key. The CA signs exactly these fields. */
export type P2PCertificate = Omit<P2PIdentity, 'secretKey'>;

const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `${bytes} bytes of lower-case hex`);

const certificateSchema = z.object({
  v: z.literal(1),
  role: z.enum(['agent', 'seeder']),
  region: z.string().regex(/^[a-z0-9-]+$/),
  machine: z.string().min(1).nullable(),
  publicKey: hex(32),
  notAfter: z.iso.datetime(),
  sig: z.object({ key: z.string(), value: z.string() }),
});

export const p2pIdentitySchema = certificateSchema.extend({ secretKey: hex(64) });

/**
 * Issues an identity signed by the P2P CA key. The signature covers every field but `sig` and
 * `secretKey`: peers verify the certificate without ever seeing the secret key.
 */
export function issueP2PIdentity(
  who: { role: 'agent' | 'seeder'; region: string; machine?: string | null; notAfter: Date },
  caKey: SigningKey,
): P2PIdentity {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const seed = privateKey.export({ type: 'pkcs8', format: 'der' }).subarray(-32);
  const pub = publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);
  const certificate = signDocument(
    { v: 1 as const, role: who.role, region: who.region, machine: who.machine ?? null, publicKey: pub.toString('hex'), notAfter: who.notAfter.toISOString() },
    caKey,
  );
  return { ...certificate, secretKey: Buffer.concat([seed, pub]).toString('hex') };
}

/** The certificate part of an identity: what is sent to peers. */
export function p2pCertificate(identity: P2PIdentity): P2PCertificate {
  const { secretKey: _secret, ...certificate } = identity;
  return certificate;
}

export type P2PIdentityCheck = { ok: true; certificate: P2PCertificate } | { ok: false; problem: 'MALFORMED' | 'UNSIGNED' | 'UNKNOWN_KEY' | 'BAD_SIGNATURE' | 'EXPIRED'; message: string };

/**
 * Checks an identity (or the certificate a peer sent): its form, the CA's signature with the
 * keyring's keys, and that it has not expired. Who it must be (region, public key) is the
 * caller's to compare.
 */
export function verifyP2PIdentity(document: unknown, keyring: VerifyingKeyring, now: Date = new Date()): P2PIdentityCheck {
  const parsed = certificateSchema.safeParse(document);
  if (!parsed.success) return { ok: false, problem: 'MALFORMED', message: `not a P2P identity: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'document'}: ${i.message}`).join('; ')}` };
  const certificate = parsed.data;
  const verified = verifyDocument(certificate, keyring);
  if (!verified.ok) {
    const why = { UNSIGNED: 'it is not signed', UNKNOWN_KEY: `it is signed by key ${verified.keyId}, which is not a trusted P2P CA key`, BAD_SIGNATURE: 'its signature does not match its contents' }[verified.problem];
    return { ok: false, problem: verified.problem, message: `the P2P identity of ${describe(certificate)} is refused: ${why}` };
  }
  if (Date.parse(certificate.notAfter) <= now.getTime()) {
    return { ok: false, problem: 'EXPIRED', message: `the P2P identity of ${describe(certificate)} expired at ${certificate.notAfter}; issue a new one (fleetcast creds issue ${certificate.role})` };
  }
  return { ok: true, certificate };
}

function describe(certificate: P2PCertificate): string {
  return `${certificate.role} ${certificate.machine ?? '(unnamed)'} of region ${certificate.region}`;
}
