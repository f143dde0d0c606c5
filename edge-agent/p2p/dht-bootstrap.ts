import dgram from 'node:dgram';
import HyperDHT, { type DhtNodeAddress } from 'hyperdht';
import { FleetcastError } from '../../errors/index.ts';
import { silentLogger, type Logger } from '../../logging/index.ts';

export interface DhtBootstrapOptions {
  /** Address to listen on (UDP); peers put it into FLEETCAST_DHT_BOOTSTRAP. */
  host: string;
  /** 0: a free port chosen by the OS (tests). */
  port: number;
  /**
   * Persistent DHT nodes started beside the bootstrap node. Measured here: with the bootstrap
   * node alone, peers announced but lookups never found them; with one more node they did.
   * @defaultValue 2
   */
  helpers?: number;
  /** @defaultValue a silent logger */
  logger?: Logger;
}

/**
 * The DHT of a fleet without the public Holepunch network: a bootstrap node at a known address
 * and a few persistent helper nodes, all in this process. Peers (seeders, agents) join through
 * it and find each other's announcements on it; no artifact byte passes through it.
 */
export class DhtBootstrap {
  private constructor(
    private readonly nodes: HyperDHT[],
    readonly address: DhtNodeAddress,
  ) {}

  static async start(options: DhtBootstrapOptions): Promise<DhtBootstrap> {
    const logger = options.logger ?? silentLogger();
    const port = options.port === 0 ? await freeUdpPort(options.host) : options.port;
    const first = new HyperDHT({ bootstrap: [], host: options.host, port, ephemeral: false, firewalled: false });
    const nodes = [first];
    try {
      await first.fullyBootstrapped();
      const bound = first.address();
      if (bound.port !== port) throw new FleetcastError('CONFIG_INVALID', `the DHT could not listen on ${options.host}:${port} (UDP): the port is taken; choose another with --listen`, { port });
      // Helpers reach the bootstrap node at the listen address, or loopback when it listens on all.
      const address = { host: options.host === '0.0.0.0' ? '127.0.0.1' : options.host, port };
      for (let i = 0; i < (options.helpers ?? 2); i++) {
        const helper = new HyperDHT({ bootstrap: [address], host: options.host, anyPort: true, port: await freeUdpPort(options.host), ephemeral: false, firewalled: false });
        nodes.push(helper);
        await helper.fullyBootstrapped();
      }
      logger.info({ listen: `${options.host}:${port}`, nodes: nodes.length }, 'DHT bootstrap ready');
      return new DhtBootstrap(nodes, address);
    } catch (err) {
      await Promise.all(nodes.map((node) => node.destroy().catch(() => undefined)));
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new FleetcastError('CONFIG_INVALID', `the DHT cannot listen on ${options.host}:${port} (UDP): the port is taken; choose another with --listen`, { port }, { cause: err });
      }
      throw err;
    }
  }

  /** What peers pass as their bootstrap list. */
  get bootstrap(): DhtNodeAddress[] {
    return [this.address];
  }

  /** `host:port`, the form of FLEETCAST_DHT_BOOTSTRAP. */
  get listen(): string {
    return `${this.address.host}:${this.address.port}`;
  }

  async close(): Promise<void> {
    for (const node of [...this.nodes].reverse()) await node.destroy();
  }
}

/** hyperdht treats port 0 as "its default port": ask the OS for a free one first. */
function freeUdpPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, host, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}
