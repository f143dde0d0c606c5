import type { SwarmConnection } from 'hyperswarm';
import { FleetcastError } from '../../errors/index.ts';
import type { RateLimiter } from '../limits/rate-limiter.ts';

/**
 * Makes every frame a connection sends wait for the machine's upload limiter first. Hypercore
 * answers a peer's requests only while the connection is drained, so a connection waiting on
 * the limiter stops taking requests: memory stays at about one block per connection, and the
 * peer asks someone else. This wraps the connection's `_write` (streamx calls it one frame at a
 * time, in order, so encryption nonces stay in sequence): the one place fleetcast relies on an
 * internal of @hyperswarm/secret-stream.
 */
export function throttleUploads(connection: SwarmConnection, limiter: RateLimiter): void {
  if (limiter.unlimited) return;
  const write = connection._write;
  if (typeof write !== 'function') {
    throw new FleetcastError('INTERNAL', 'this hyperswarm connection has no _write: FLEETCAST_P2P_UPLOAD_LIMIT cannot be applied; use the hyperswarm version in package-lock.json', {});
  }
  // Frames of a closed connection must not hold their turn in the limiter's queue.
  const closed = new AbortController();
  connection.once('close', () => closed.abort(new Error('connection closed')));
  connection._write = (data, callback) => {
    limiter.take(data.byteLength, closed.signal).then(
      () => write.call(connection, data, callback),
      (err: Error) => callback(err),
    );
  };
}
