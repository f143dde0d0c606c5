import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import type { Logger } from '../../logging/index.ts';
import { RecentKeys } from './recent-keys.ts';

/** Slack retries for minutes at most; a trigger id seen within this is the same request again. */
const redeliveryWindowMs = 30 * 60_000;

/**
 * Slack delivers a command or a click again when it did not get an ack in time
 * (`x-slack-retry-num` over HTTP, `retry_attempt` in Socket Mode), with a new signature but the
 * same trigger id. The second delivery is acknowledged and dropped: whatever the first started
 * is not started twice. (Two clicks on one button have two trigger ids: plans dedupe those.)
 */
export class RedeliveryGuard {
  private readonly seen: RecentKeys;

  constructor(
    private readonly logger: Logger,
    now?: () => number,
  ) {
    this.seen = new RecentKeys({ ttlMs: redeliveryWindowMs, ...(now ? { now } : {}) });
  }

  readonly middleware: Middleware<AnyMiddlewareArgs> = async (args) => {
    const body = args.body as { trigger_id?: unknown };
    const trigger = typeof body.trigger_id === 'string' ? body.trigger_id : undefined;
    if (trigger !== undefined && !this.seen.firstTime(trigger)) {
      this.logger.info({ trigger, retry: args.context.retryNum ?? null, reason: args.context.retryReason ?? null }, 'Slack delivered a request again; it was handled once already');
      if ('ack' in args && typeof args.ack === 'function') await (args.ack as () => Promise<void>)();
      return;
    }
    await args.next();
  };
}
