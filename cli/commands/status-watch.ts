import type { ServiceStatusJson } from '../../api-contract/index.ts';
import { streamEvents, type ApiClient } from '../../api-client/index.ts';
import { isFleetcastError } from '../../errors/index.ts';
import { StatusWatchDisplay } from '../format/status-watch-display.ts';

/**
 * `fleetcast status [SERVICE] --watch`: subscribes to the status of each service on /v1/events
 * and shows it again on every change the coordinator pushes, until Ctrl-C (exit 0). A lost
 * connection (coordinator restart) is re-established for as long as it takes, and the
 * coordinator answers each subscription with the status as it is now. With `json`, one
 * status document per line on stdout.
 */
export async function watchStatus(client: ApiClient, services: readonly string[], json: boolean): Promise<void> {
  const display = json ? null : new StatusWatchDisplay(process.stdout, services);
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
  try {
    await streamEvents<never>(client, {
      subscription: () => services.map((service) => ({ subscribe: 'status', service })),
      maxReconnects: Infinity,
      signal: stop.signal,
      onMessage: (message) => {
        if (message.type !== 'status') return undefined;
        const status: ServiceStatusJson = message.status;
        if (json) process.stdout.write(JSON.stringify(status) + '\n');
        else display!.update(status);
        return undefined;
      },
    });
  } catch (err) {
    // Ctrl-C is how a watch ends: not an error.
    if (!(stop.signal.aborted && isFleetcastError(err, 'CANCELLED'))) throw err;
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
}
