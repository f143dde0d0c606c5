import type { SwarmConnection } from 'hyperswarm';
import type { P2PCertificate, VerifyingKeyring } from '../../trust/index.ts';
import { verifyP2PIdentity } from '../../trust/index.ts';

/** Where and how the responder takes the block connection of an admitted peer. */
export interface BlockOffer {
  host: string;
  port: number;
  /** The TLS-PSK identity naming this session. */
  id: string;
  /** The pre-shared key (hex), sent only over the Noise-encrypted connection, only to an admitted peer. */
  psk: string;
}

export interface AdmissionOptions {
  certificate: P2PCertificate;
  keyring: VerifyingKeyring;
  region: string;
  /** Responder only: the offer made once the peer was admitted. */
  offer?: () => BlockOffer;
  /** @defaultValue 10_000 */
  timeoutMs?: number;
}

export type Admission = { ok: true; certificate: P2PCertificate; offer: BlockOffer | null } | { ok: false; code: string; reason: string };

/**
 * Admits a peer on a fresh Hyperswarm connection before anything else flows over it. Both sides
 * send their certificate (the fleet P2P CA's signature over role, region, machine, the Noise
 * public key and an expiry) as the connection's first message; each checks the other's against
 * its trusted CA keys, its own region and the very key the Noise handshake authenticated (a
 * certificate copied from another machine is worthless without that machine's secret key).
 * Only then does the responder send the block connection's address and key: a peer that is
 * not admitted never learns them, and can neither request nor receive a block.
 */
export function admit(connection: SwarmConnection, options: AdmissionOptions): Promise<Admission> {
  return new Promise((resolve) => {
    let certificate: P2PCertificate | undefined;
    let offer: BlockOffer | null = null;
    const initiator = options.offer === undefined;
    const finish = (result: Admission) => {
      clearTimeout(timer);
      connection.off('data', onMessage);
      connection.off('close', onClose);
      resolve(result);
    };
    const timer = setTimeout(() => finish({ ok: false, code: 'NOT_ADMITTED', reason: `no valid P2P identity within ${options.timeoutMs ?? 10_000} ms` }), options.timeoutMs ?? 10_000);
    const onClose = () => finish({ ok: false, code: 'NOT_ADMITTED', reason: 'the connection closed before the peer was admitted' });
    const onMessage = (data: Buffer) => {
      let message: { t?: unknown; certificate?: unknown; offer?: unknown };
      try {
        message = JSON.parse(data.toString()) as typeof message;
      } catch {
        return finish({ ok: false, code: 'NOT_ADMITTED', reason: 'the peer sent something other than its identity' });
      }
      if (message.t === 'id' && !certificate) {
        const check = verifyP2PIdentity(message.certificate, options.keyring);
        if (!check.ok) return finish({ ok: false, code: `IDENTITY_${check.problem}`, reason: check.message });
        if (check.certificate.publicKey !== connection.remotePublicKey.toString('hex')) {
          return finish({ ok: false, code: 'IDENTITY_NOT_ITS_KEY', reason: `the peer showed the identity of ${check.certificate.machine ?? check.certificate.role}, whose key is not the one it connected with` });
        }
        if (check.certificate.region !== options.region) {
          return finish({ ok: false, code: 'IDENTITY_OTHER_REGION', reason: `the peer is a machine of region ${check.certificate.region}, not ${options.region}` });
        }
        certificate = check.certificate;
        if (!initiator) {
          offer = options.offer!();
          connection.write(Buffer.from(JSON.stringify({ t: 'blocks', offer })));
          return finish({ ok: true, certificate, offer });
        }
      } else if (message.t === 'blocks' && initiator && isOffer(message.offer)) {
        offer = message.offer;
      } else {
        return finish({ ok: false, code: 'NOT_ADMITTED', reason: `unexpected message ${String(message.t)} during admission` });
      }
      if (certificate && offer) finish({ ok: true, certificate, offer });
    };
    connection.on('data', onMessage);
    connection.on('close', onClose);
    connection.write(Buffer.from(JSON.stringify({ t: 'id', certificate: options.certificate })));
  });
}

function isOffer(value: unknown): value is BlockOffer {
  const offer = value as BlockOffer;
  return typeof offer === 'object' && offer !== null && typeof offer.host === 'string' && Number.isInteger(offer.port) && typeof offer.id === 'string' && /^[0-9a-f]{64}$/.test(offer.psk);
}
