import type { KvWatchEntry, RoKV } from '@nats-io/kv';
import type { NatsConnection, QueuedIterator, Subscription } from '@nats-io/nats-core';
import { FleetcastError } from '../errors/index.ts';
import { backoffDelay } from '../lifecycle/index.ts';
import type { Logger } from '../logging/index.ts';
import { ConnectionState } from './connection-state.ts';
import { kvConsumer, releaseKvConsumer } from './kv-consumer.ts';
import { consumerNotFound, jetStreamErrorCode, natsFailure } from './nats-failure.ts';

export interface ResilientWatchOptions {
  nc: NatsConnection;
  kv: RoKV;
  /** Key filter (one subject filter: `api.eu`, `*.eu`); undefined watches every key. */
  key?: string;
  /** For logs: `goal watch of region eu`. */
  what: string;
  /** Server description for messages. */
  server: string;
  /** Each entry, in the bucket's order within a session; a new session starts with the last value of every key. */
  onEntry(entry: KvWatchEntry, session: number): void;
  /** The session delivered every key's value that existed when it started. */
  onCaughtUp(session: number): void;
  logger: Logger;
  /** First pause after a failed session. @defaultValue 250 */
  minRetryMs?: number;
  /** Longest pause between sessions. @defaultValue 5_000 */
  maxRetryMs?: number;
  /**
   * Asks the server this often whether the watch's consumer still exists. For watches through
   * another server (the hub reading a leaf's bucket) the connection does not drop when that
   * server restarts and the consumer is lost with it; the check restarts the watch within this
   * interval instead of after the consumer's missed heartbeats (~10 s). One request per check:
   * for a few coordinator watches, not for 100,000 agents (they restart on reconnect).
   * @defaultValue no check
   */
  checkConsumerEveryMs?: number;
  /**
   * The stream behind the bucket: when the server announces it was created, deleted or changed
   * (JetStream's stream advisories, a core subscription — nothing to poll), the watch starts a
   * new session. The client's own ordered consumer would resume a replaced stream after the
   * last sequence it saw, never seeing what a new stream (counting from 1 again) holds — a
   * mirror recreated by the coordinator, or a plain stream someone put in its place.
   * @defaultValue no advisories watched
   */
  streamAdvisories?: string;
}

/** How long stop() waits for the deletion of the last session's consumer. */
const releaseWaitMs = 1_000;

/**
 * A KV watch that never gives up: when the server closes it, the stream is missing or the
 * connection comes back after a disconnect, it starts a new session (last value per key, then
 * updates) after a doubling pause. Restarting on reconnect matters: after a leaf restart the
 * client's ordered consumer would otherwise sit silent until two missed heartbeats (~10 s).
 */
export class ResilientWatch {
  private stopped = false;
  private restartRequested = false;
  private iterator: QueuedIterator<KvWatchEntry> | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private connection: ConnectionState | undefined;
  private checkTimer: NodeJS.Timeout | undefined;
  private checkFailed = false;
  private checking = false;
  private advisories: Subscription | undefined;
  /** Deletions of the consumers of ended sessions still in flight; stop() waits for them. */
  private readonly releasing = new Set<Promise<void>>();

  constructor(private readonly options: ResilientWatchOptions) {}

  start(): void {
    if (this.loop) return;
    this.loop = this.run();
    // After a reconnect the old consumer may be gone with a restarted server: watch anew at once.
    this.connection = new ConnectionState(this.options.nc);
    this.connection.onReconnect(() => this.restart());
    if (this.options.checkConsumerEveryMs) {
      this.checkTimer = setInterval(() => void this.checkConsumer(), this.options.checkConsumerEveryMs);
      this.checkTimer.unref();
    }
    if (this.options.streamAdvisories) this.watchAdvisories(this.options.streamAdvisories);
  }

  private watchAdvisories(stream: string): void {
    const subject = `$JS.EVENT.ADVISORY.STREAM.*.${stream}`;
    let refused = false;
    this.advisories = this.options.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) {
          // Without the permission the watch still works; it just learns of a replaced stream later.
          if (!refused) this.options.logger.warn({ err, subject }, `${this.options.what}: cannot subscribe to ${subject}; a replaced stream is noticed only when the watch fails`);
          refused = true;
          return;
        }
        if (this.stopped) return;
        this.options.logger.info({ advisory: msg.subject.split('.')[4] }, `${this.options.what}: stream ${stream} was ${msg.subject.split('.')[4]?.toLowerCase()}; watching anew`);
        this.restart();
      },
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.checkTimer);
    this.advisories?.unsubscribe();
    this.iterator?.stop();
    this.wake?.();
    await this.loop;
    // Before the caller closes the connection the deletions must get out; one that takes
    // longer than a moment is to a server that does not answer, whose consumer expires anyway.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(this.releasing), new Promise((resolve) => (timer = setTimeout(resolve, releaseWaitMs)))]);
    clearTimeout(timer);
    // Last: release() asks it whether the connection is up.
    this.connection?.stop();
  }

  /** Ends the current session and starts a new one at once. */
  restart(): void {
    this.restartRequested = true;
    this.iterator?.stop();
    this.wake?.();
  }

  private async checkConsumer(): Promise<void> {
    const consumer = this.iterator && kvConsumer(this.iterator);
    if (this.checking || this.stopped || !consumer) return;
    this.checking = true;
    try {
      await consumer.info();
      if (this.checkFailed) this.restartAfterCheck('the server answers again');
      this.checkFailed = false;
    } catch (err) {
      if (jetStreamErrorCode(err) === consumerNotFound) this.restartAfterCheck('the consumer is gone (the server restarted)');
      else this.checkFailed = true;
    } finally {
      this.checking = false;
    }
  }

  private restartAfterCheck(why: string): void {
    this.checkFailed = false;
    this.options.logger.info(`${this.options.what}: ${why}; watching anew`);
    this.restart();
  }

  private async run(): Promise<void> {
    const { kv, key, logger, what } = this.options;
    const minRetry = this.options.minRetryMs ?? 250;
    const maxRetry = this.options.maxRetryMs ?? 5_000;
    let failures = 0;
    let session = 0;
    while (!this.stopped) {
      this.restartRequested = false;
      const mine = ++session;
      let failed = false;
      let iterator: QueuedIterator<KvWatchEntry> | undefined;
      try {
        iterator = await kv.watch({ key });
        this.iterator = iterator;
        if (this.stopped || this.restartRequested) iterator.stop();
        // 3.x has no initializedFn: the session is caught up once the entries pending when its
        // consumer was created are through — at once when there were none, else at the entry the
        // client marks isUpdate (the last of them) or the first with nothing more pending.
        let caughtUp = false;
        const catchUp = () => {
          caughtUp = true;
          failures = 0;
          this.options.onCaughtUp(mine);
        };
        // A session stopped before it began delivered nothing: it must not claim to be caught up
        // (the status view would drop every report the previous session saw).
        if ((await initialPending(iterator)) === 0 && !this.stopped && !this.restartRequested) catchUp();
        for await (const entry of iterator) {
          this.options.onEntry(entry, mine);
          if (!caughtUp && (entry.isUpdate || entry.delta === 0)) catchUp();
        }
        failed = !this.stopped && !this.restartRequested;
        if (failed) logger.warn({ session: mine }, `${what}: the server ended the watch; starting a new one`);
      } catch (err) {
        failed = true;
        const error = natsFailure(err, { action: what, server: this.options.server, startHint: 'Watching again after a pause.' });
        // Every failure while a server is down would flood the log: the first and then every tenth.
        if (failures % 10 === 0) logger.warn({ err: error, failures: failures + 1 }, `${what} failed: ${error.message}`);
      } finally {
        this.iterator = undefined;
        if (iterator) this.release(iterator);
      }
      if (this.stopped) break;
      if (failed) {
        await this.sleep(backoffDelay(++failures, { initialMs: minRetry, maxMs: maxRetry, jitter: 0.5 }));
      }
    }
  }

  /**
   * Deletes an ended session's consumer (see releaseKvConsumer) — unless disconnected: the
   * request would only wait out its timeout, so that consumer is left to expire (when the
   * server restarted, it is gone already). Sessions ended by a reconnect end once connected.
   */
  private release(iterator: QueuedIterator<KvWatchEntry>): void {
    iterator.stop();
    if (!this.connection?.connected) return;
    const deletion = releaseKvConsumer(iterator).finally(() => this.releasing.delete(deletion));
    this.releasing.add(deletion);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

/**
 * How many entries the watch's consumer had to deliver when it was created (its cached info; no
 * request). If a client release stops exposing its consumer, the session fails loudly (and is
 * retried) rather than never — or falsely — reporting that it caught up.
 */
async function initialPending(iterator: QueuedIterator<KvWatchEntry>): Promise<number> {
  const consumer = kvConsumer(iterator);
  if (!consumer) {
    iterator.stop();
    throw new FleetcastError('INTERNAL', 'the KV watch of @nats-io/kv no longer exposes its consumer (iterator._data): this fleetcast release needs @nats-io/kv 3.4', {});
  }
  return (await consumer.info(true)).num_pending;
}
