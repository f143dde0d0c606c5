import { createHmac, timingSafeEqual } from 'node:crypto';

/** `sha256=<hex>`: GitHub's x-hub-signature-256 (Gitea and GitLab-compatible senders use the same form). */
export function signBody(secret: string, body: Buffer): string {
  return 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
}

/** Checks the signature over the exact bytes received, in constant time. */
export function verifySignature(secret: string, body: Buffer, header: string | undefined): boolean {
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header?.trim() ?? '');
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(match[1]!, 'hex'));
}
