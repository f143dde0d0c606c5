import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV, type KvOptions } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';

/**
 * Where a bucket lives and how long each request may take. Both go into the client's options
 * only when set: it copies an undefined `timeout` over its default (and then waits 1 s).
 */
export interface BucketAccess {
  /** The JetStream domain to reach (a region's leaf, through the hub); undefined: the server's own. */
  domain?: string;
  timeoutMs: number;
}

/**
 * Binds to an existing bucket; never creates one. It first asks that JetStream for the account
 * info, so opening fails — and the caller tries again later — while the JetStream does not
 * answer (a leaf that is down, reached through the hub). @nats-io/kv 3.x binds without asking
 * (2.x asked), which would hand out a handle whose every call fails.
 */
export async function openBucket(nc: NatsConnection, bucket: string, access: BucketAccess, options: Pick<Partial<KvOptions>, 'streamName' | 'allow_direct'> = {}): Promise<KV> {
  const js = jetstream(nc, { ...jsOptions(access), checkAPI: true });
  return new Kvm(js).open(bucket, { ...options });
}

/** Creates the bucket with `options`, or opens it as it is when it exists (its settings are not changed). */
export function createBucket(nc: NatsConnection, bucket: string, access: BucketAccess, options: Partial<KvOptions>): Promise<KV> {
  return new Kvm(jetstream(nc, jsOptions(access))).create(bucket, options);
}

/** A stream manager without the up-front account-info request (callers check the domain themselves). */
export function streamManager(nc: NatsConnection, access: BucketAccess): Promise<JetStreamManager> {
  return jetstreamManager(nc, { ...jsOptions(access), checkAPI: false });
}

function jsOptions(access: BucketAccess): { domain?: string; timeout: number } {
  return access.domain ? { domain: access.domain, timeout: access.timeoutMs } : { timeout: access.timeoutMs };
}
