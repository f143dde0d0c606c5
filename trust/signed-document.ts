import crypto from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';
import type { SigningKey } from './ed25519-keys.ts';
import type { VerifyingKeyring } from './verifying-keyring.ts';

/** Where a signed document keeps its signature: the id of the key and the Ed25519 signature (base64url). */
export interface DocumentSignature {
  key: string;
  value: string;
}

export type Signed<T> = T & { sig: DocumentSignature };

/** Why a document was not accepted. */
export type SignatureProblem = 'UNSIGNED' | 'UNKNOWN_KEY' | 'BAD_SIGNATURE';

export type VerifyResult = { ok: true; keyId: string } | { ok: false; problem: SignatureProblem; keyId?: string };

/** Signs every field of `document` but `sig` (canonical JSON), and returns it with `sig` set. */
export function signDocument<T extends object>(document: T, key: SigningKey): Signed<T> {
  const { sig: _ignored, ...fields } = document as T & { sig?: unknown };
  const value = crypto.sign(null, Buffer.from(canonicalJson(fields)), key.privateKey).toString('base64url');
  return { ...(fields as T), sig: { key: key.keyId, value } };
}

/** Checks `document.sig` against every other field of the document with the keyring's keys. */
export function verifyDocument(document: object, keyring: VerifyingKeyring): VerifyResult {
  const { sig, ...fields } = document as { sig?: unknown };
  if (!isSignature(sig)) return { ok: false, problem: 'UNSIGNED' };
  const key = keyring.get(sig.key);
  if (!key) return { ok: false, problem: 'UNKNOWN_KEY', keyId: sig.key };
  let data: string;
  try {
    data = canonicalJson(fields);
  } catch {
    return { ok: false, problem: 'BAD_SIGNATURE', keyId: sig.key };
  }
  const good = keyring.checked(key.keyId, sig.value, data, () => {
    try {
      return crypto.verify(null, Buffer.from(data), key.publicKey, Buffer.from(sig.value, 'base64url'));
    } catch {
      return false;
    }
  });
  return good ? { ok: true, keyId: key.keyId } : { ok: false, problem: 'BAD_SIGNATURE', keyId: sig.key };
}

function isSignature(value: unknown): value is DocumentSignature {
  return typeof value === 'object' && value !== null && typeof (value as DocumentSignature).key === 'string' && typeof (value as DocumentSignature).value === 'string';
}
