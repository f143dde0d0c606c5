import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import { FleetcastError } from '../errors/index.ts';

/**
 * Ed25519 keys as fleetcast writes them: a private key is a PKCS#8 PEM file (mode 0600); a
 * public key is one line, `ed25519:<base64url of the 32 raw bytes>`, short enough for an
 * environment variable. A key's id is the first 16 hex digits of the sha256 of its raw bytes.
 */
export interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
  /** The matching public key, in its one-line form. */
  publicKey: string;
}

export interface VerifyingKey {
  keyId: string;
  publicKey: KeyObject;
  /** Its one-line form. */
  text: string;
}

const prefix = 'ed25519:';
/** DER of an Ed25519 SubjectPublicKeyInfo without its last 32 bytes (the key itself). */
const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');

export function generateSigningKey(): { privatePem: string; publicKey: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  return { privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey: publicKeyText(publicKey) };
}

/** Writes a new key pair: the private key 0600 (never overwritten), the public key beside it. */
export function createSigningKeyFiles(privateFile: string, publicFile: string): { publicKey: string } {
  const { privatePem, publicKey } = generateSigningKey();
  fs.writeFileSync(privateFile, privatePem, { mode: 0o600, flag: 'wx' });
  fs.writeFileSync(publicFile, `${publicKey}\n`, { mode: 0o644 });
  return { publicKey };
}

/**
 * The key pair at these paths, made if there is none (`fleetcast up` keeps it across restarts
 * of an installation); the private key's public key is added to the public key file when the
 * file lacks it.
 */
export function ensureSigningKeyFiles(privateFile: string, publicFile: string): { publicKey: string; created: boolean } {
  if (!fs.existsSync(privateFile)) return { ...createSigningKeyFiles(privateFile, publicFile), created: true };
  const { publicKey } = readSigningKey(privateFile);
  // Keys added to the file (a rotation under way) stay; the signing key's own is added if missing.
  const text = fs.existsSync(publicFile) ? fs.readFileSync(publicFile, 'utf8') : '';
  if (!text.includes(publicKey)) fs.writeFileSync(publicFile, `${text}${text && !text.endsWith('\n') ? '\n' : ''}${publicKey}\n`, { mode: 0o644 });
  return { publicKey, created: false };
}

export function readSigningKey(file: string, setting = 'the signing key'): SigningKey {
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new FleetcastError('CONFIG_INVALID', `cannot read ${setting} at ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}): point it at an Ed25519 private key (PEM), e.g. one \`fleetcast up\` made`, { file });
  }
  return signingKeyFromPem(pem, `${setting} at ${file}`, { file });
}

/** A signing key from its PEM text (`what` names it in errors). */
export function signingKeyFromPem(pem: string, what = 'the signing key', details: Record<string, unknown> = {}): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = crypto.createPrivateKey(pem);
  } catch {
    throw new FleetcastError('CONFIG_INVALID', `${what} is not a private key in PEM form`, details);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new FleetcastError('CONFIG_INVALID', `${what} is a ${privateKey.asymmetricKeyType} key, not Ed25519`, details);
  }
  const publicKey = crypto.createPublicKey(privateKey);
  return { keyId: keyIdOf(publicKey), privateKey, publicKey: publicKeyText(publicKey) };
}

/** Parses `ed25519:<base64url>` (or a PEM public key); undefined when it is neither. */
export function parseVerifyingKey(text: string): VerifyingKey | undefined {
  const trimmed = text.trim();
  let publicKey: KeyObject;
  try {
    if (trimmed.startsWith(prefix)) {
      const raw = Buffer.from(trimmed.slice(prefix.length), 'base64url');
      if (raw.length !== 32) return undefined;
      publicKey = crypto.createPublicKey({ key: Buffer.concat([spkiPrefix, raw]), format: 'der', type: 'spki' });
    } else if (trimmed.startsWith('-----BEGIN PUBLIC KEY-----')) {
      publicKey = crypto.createPublicKey(trimmed);
    } else {
      return undefined;
    }
  } catch {
    return undefined;
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') return undefined;
  return { keyId: keyIdOf(publicKey), publicKey, text: publicKeyText(publicKey) };
}

export function publicKeyText(publicKey: KeyObject): string {
  return prefix + rawPublicKey(publicKey).toString('base64url');
}

export function keyIdOf(publicKey: KeyObject): string {
  return crypto.createHash('sha256').update(rawPublicKey(publicKey)).digest('hex').slice(0, 16);
}

function rawPublicKey(publicKey: KeyObject): Buffer {
  return publicKey.export({ type: 'spki', format: 'der' }).subarray(spkiPrefix.length);
}
