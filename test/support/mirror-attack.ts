// What someone holding a region leaf's admin credentials (the seeders' today) can do to the
// region's goal mirror: delete it, create a plain stream under its name, and write any document
// into it. Plain clients (@nats-io/*), no fleetcast code.
import { jetstream } from '@nats-io/jetstream';
import type { TestNatsCluster } from './nats-cluster.ts';

export class MirrorAttacker {
  constructor(
    private readonly cluster: TestNatsCluster,
    private readonly leafUrl: string,
    readonly region: string,
  ) {}

  /** Deletes `KV_goal-<region>` and creates a plain stream of that name capturing `$KV.goal.>` on the leaf. */
  async replaceMirror(): Promise<void> {
    const jsm = await this.cluster.rawManager(this.leafUrl);
    await jsm.streams.delete(`KV_goal-${this.region}`);
    await jsm.streams.add({
      name: `KV_goal-${this.region}`,
      subjects: ['$KV.goal.>'],
      max_msgs_per_subject: 10,
      allow_direct: true,
      allow_rollup_hdrs: true,
      deny_delete: true,
    });
  }

  /** Writes `value` (a document, or text) under `key` of the region's mirror stream; its revision. */
  async write(key: string, value: unknown): Promise<number> {
    const js = jetstream(await this.cluster.rawConnect(this.leafUrl));
    const payload = typeof value === 'string' ? value : JSON.stringify(value);
    return (await js.publish(`$KV.goal.${key}`, new TextEncoder().encode(payload))).seq;
  }
}
