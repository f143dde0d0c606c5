import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV, type KvOptions } from '@nats-io/kv';
import { nkeyAuthenticator, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { LocalNatsCluster, type LocalNatsClusterUrls } from '../../ops/nats/local-cluster.ts';
import { natsCredsPublicKey, privateInboxPrefix, readNatsCreds, type NatsIdentityRegistry } from '../../trust/index.ts';
import type { LocalTlsFiles } from '../../ops/nats/local-tls.ts';

/**
 * A private NATS hub plus one leaf per region for one test file: its own nats-server processes,
 * temporary store dirs and OS-chosen ports (the shared server on 4222 is never touched). It
 * can stop, kill and restart the hub or one leaf, and hands out plain nats clients
 * (@nats-io/transport-node, no fleetcast code) that it closes on stop().
 */
export class TestNatsCluster {
  private readonly clients = new Set<NatsConnection>();

  private constructor(private readonly cluster: LocalNatsCluster) {}

  /**
   * `identities`: the servers' users are that registry's identities (no shared passwords but the leaf admin's).
   * `host`: the address the servers listen on (default 127.0.0.1).
   */
  static async start(regions: string[] = ['eu', 'us', 'ap'], options: { identities?: NatsIdentityRegistry; tls?: LocalTlsFiles; host?: string; nodes?: number } = {}): Promise<TestNatsCluster> {
    return new TestNatsCluster(await LocalNatsCluster.start({ regions, ...options }));
  }

  /** Renders the servers' users from the identity registry again and reloads them. */
  async reloadUsers(): Promise<void> {
    await this.cluster.reloadUsers();
  }

  get urls(): LocalNatsClusterUrls {
    return this.cluster.urls;
  }

  get regions(): string[] {
    return this.cluster.regions;
  }

  /** The CA of the servers' certificates (clusters with TLS). */
  get ca(): string | undefined {
    return this.cluster.ca;
  }

  /** Where configs and server logs are, for a failing test's message. */
  get dir(): string {
    return this.cluster.dir;
  }

  /** `node`: one server of a clustered hub (1-based); without it, every server. */
  async stopHub(options: { kill?: boolean; node?: number } = {}): Promise<void> {
    await this.cluster.stopHub(options);
  }

  async startHub(node?: number): Promise<void> {
    await this.cluster.startHub(node);
  }

  async restartHub(options: { kill?: boolean } = {}): Promise<void> {
    await this.cluster.stopHub(options);
    await this.cluster.startHub();
  }

  /** `node`: one server of a clustered leaf (1-based); without it, every server. */
  async stopLeaf(region: string, options: { kill?: boolean; node?: number } = {}): Promise<void> {
    await this.cluster.stopLeaf(region, options);
  }

  async startLeaf(region: string, node?: number): Promise<void> {
    await this.cluster.startLeaf(region, node);
  }

  async restartLeaf(region: string, options: { kill?: boolean } = {}): Promise<void> {
    await this.cluster.stopLeaf(region, options);
    await this.cluster.startLeaf(region);
  }

  /** A plain nats client (no fleetcast code) for one of the cluster's URLs; `credsFile`: as that NATS identity. */
  /**
   * A plain client, as a stolen creds file would be used: with its identity's own inbox prefix
   * (the only inboxes it may subscribe to) unless `inboxPrefix` says another. A cluster's URL
   * names every server, comma-separated: the client may use any of them.
   */
  async rawConnect(url: string, options: { credsFile?: string; inboxPrefix?: string } = {}): Promise<NatsConnection> {
    const all = url.split(',').map((one) => new URL(one));
    const parsed = all[0]!;
    const nc = await connect({
      servers: all.map((one) => `${one.hostname}:${one.port}`),
      user: decodeURIComponent(parsed.username),
      pass: decodeURIComponent(parsed.password),
      ...(this.cluster.ca ? { tls: { caFile: this.cluster.ca } } : {}),
      ...(options.credsFile ? { authenticator: nkeyAuthenticator(readNatsCreds(options.credsFile)), inboxPrefix: privateInboxPrefix(natsCredsPublicKey(options.credsFile)) } : {}),
      ...(options.inboxPrefix ? { inboxPrefix: options.inboxPrefix } : {}),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 200,
    });
    this.clients.add(nc);
    return nc;
  }

  /**
   * An existing bucket opened with a plain client (bound, never created), as an outsider sees it.
   * `domain` reaches a leaf's JetStream through the hub; `timeoutMs` bounds each request.
   */
  async rawKv(url: string, bucket: string, options: Partial<Pick<KvOptions, 'streamName' | 'allow_direct'>> & { domain?: string; timeoutMs?: number } = {}): Promise<KV> {
    const { domain, timeoutMs, ...kvOptions } = options;
    // Only the options given: the client copies an undefined `timeout` over its default.
    const js = jetstream(await this.rawConnect(url), { ...(domain ? { domain } : {}), ...(timeoutMs ? { timeout: timeoutMs } : {}) });
    return new Kvm(js).open(bucket, kvOptions);
  }

  /** A plain JetStream manager on one of the cluster's URLs. */
  async rawManager(url: string, domain?: string): Promise<JetStreamManager> {
    return jetstreamManager(await this.rawConnect(url), domain ? { domain } : {});
  }

  async stop(): Promise<void> {
    await Promise.all([...this.clients].map((nc) => (nc.isClosed() ? undefined : nc.close())));
    await this.cluster.stop();
  }
}
