import type { Principal } from '../auth/index.ts';
import type { Watch } from './change-watch.ts';
import type { FleetFeed, FleetMessage } from './fleet-feed.ts';
import type { ServerMessage } from './messages.ts';

/**
 * A connection's `{"subscribe":"fleet"}`: a listener on the shared FleetFeed (no reads of its
 * own), passing on only the services the token may see.
 */
export class FleetWatch implements Watch {
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly feed: FleetFeed,
    private readonly principal: Principal,
    private readonly send: (message: ServerMessage) => void,
  ) {}

  start(): void {
    this.unsubscribe = this.feed.subscribe((message) => {
      if (this.visible(message)) this.send(message);
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private visible(message: FleetMessage): boolean {
    const allowed = this.principal.services;
    if (allowed === null) return true;
    return allowed.includes(message.type === 'build' ? message.build.service : message.status.service);
  }
}
