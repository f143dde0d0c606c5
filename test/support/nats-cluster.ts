import { connect, type NatsConnection } from 'nats';
import { LocalNatsCluster, type LocalNatsClusterUrls } from '../../ops/nats/local-cluster.ts';

/**
 * A private NATS hub plus one leaf per region for one test file: its own nats-server processes,
 * temporary store dirs and OS-chosen ports (the shared server on 4222 is never touched). It
 * can stop, kill and restart the hub or one leaf, and hands out plain `nats` clients that it
 * closes on stop().
 */
export class TestNatsCluster {
  private readonly clients = new Set<NatsConnection>();

  private constructor(private readonly cluster: LocalNatsCluster) {}

  static async start(regions: string[] = ['eu', 'us', 'ap']): Promise<TestNatsCluster> {
    return new TestNatsCluster(await LocalNatsCluster.start({ regions }));
  }

  get urls(): LocalNatsClusterUrls {
    return this.cluster.urls;
  }

  get regions(): string[] {
    return this.cluster.regions;
  }

  /** Where configs and server logs are, for a failing test's message. */
  get dir(): string {
    return this.cluster.dir;
  }

  async stopHub(options: { kill?: boolean } = {}): Promise<void> {
    await this.cluster.stopHub(options);
  }

  async startHub(): Promise<void> {
    await this.cluster.startHub();
  }

  async restartHub(options: { kill?: boolean } = {}): Promise<void> {
    await this.cluster.stopHub(options);
    await this.cluster.startHub();
  }

  async stopLeaf(region: string, options: { kill?: boolean } = {}): Promise<void> {
    await this.cluster.stopLeaf(region, options);
  }

  async startLeaf(region: string): Promise<void> {
    await this.cluster.startLeaf(region);
  }

  async restartLeaf(region: string, options: { kill?: boolean } = {}): Promise<void> {
    await this.cluster.stopLeaf(region, options);
    await this.cluster.startLeaf(region);
  }

  /** A plain nats client (no fleetcast code) for one of the cluster's URLs. */
  async rawConnect(url: string): Promise<NatsConnection> {
    const parsed = new URL(url);
    const nc = await connect({
      servers: `${parsed.hostname}:${parsed.port}`,
      user: decodeURIComponent(parsed.username),
      pass: decodeURIComponent(parsed.password),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 200,
    });
    this.clients.add(nc);
    return nc;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.clients].map((nc) => (nc.isClosed() ? undefined : nc.close())));
    await this.cluster.stop();
  }
}
