import { randomBytes } from 'node:crypto';
import net from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import type { BlockOffer } from './admission.ts';

/**
 * TLS 1.2 with a pre-shared key per session: the key was sent over the peer's Noise-encrypted
 * swarm connection after admission, so the block connection is bound to an admitted peer without
 * certificates. AES-GCM runs in OpenSSL with the CPU's AES instructions.
 */
const tlsOptions = { ciphers: 'PSK-AES128-GCM-SHA256', minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;

/** An offer not taken within this long is forgotten. */
const offerTtlMs = 30_000;

interface Pending {
  psk: Buffer;
  peer: string;
  taken: (socket: TLSSocket) => void;
  timer: NodeJS.Timeout;
}

/**
 * The TCP side of a machine's P2P presence: blocks travel over TCP (the kernel's segmentation
 * offloads, a system call per 64 KiB instead of one per 1.2 KB UDP packet), on the same port
 * number as the swarm's UDP socket. Only connections presenting a session key offered to an
 * admitted peer complete their handshake.
 */
export class BlockListener {
  private readonly pending = new Map<string, Pending>();

  private constructor(
    private readonly server: tls.Server,
    readonly host: string,
    readonly port: number,
  ) {}

  static async listen(host: string, port: number): Promise<BlockListener> {
    let self: BlockListener | undefined;
    const server = tls.createServer({
      ...tlsOptions,
      pskCallback: (socket: TLSSocket, identity: string) => {
        const entry = self?.pending.get(identity);
        if (!entry) return null;
        (socket as TLSSocket & { fleetcastSession?: string }).fleetcastSession = identity;
        return entry.psk;
      },
    });
    server.on('secureConnection', (socket: TLSSocket & { fleetcastSession?: string }) => {
      const id = socket.fleetcastSession;
      const entry = id === undefined ? undefined : self?.pending.get(id);
      if (!entry || id === undefined) return socket.destroy();
      self!.pending.delete(id);
      clearTimeout(entry.timer);
      entry.taken(socket);
    });
    // A failed handshake (no or a wrong key) is the other side's business.
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    self = new BlockListener(server, host, (server.address() as net.AddressInfo).port);
    return self;
  }

  /** A session for `peer`: its offer (sent over the swarm connection) and, once it connected, its socket. */
  offer(peer: string, taken: (socket: TLSSocket) => void): BlockOffer {
    const id = randomBytes(16).toString('hex');
    const psk = randomBytes(32);
    const timer = setTimeout(() => this.pending.delete(id), offerTtlMs);
    timer.unref();
    this.pending.set(id, { psk, peer, taken, timer });
    return { host: this.host, port: this.port, id, psk: psk.toString('hex') };
  }

  /** Dials a peer's offer. */
  static connect(offer: BlockOffer): Promise<TLSSocket> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        ...tlsOptions,
        host: offer.host,
        port: offer.port,
        pskCallback: () => ({ psk: Buffer.from(offer.psk, 'hex'), identity: offer.id }),
        checkServerIdentity: () => undefined,
      });
      socket.once('secureConnect', () => {
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', reject);
    });
  }

  async close(): Promise<void> {
    for (const entry of this.pending.values()) clearTimeout(entry.timer);
    this.pending.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
