import type { StatusReporter, StatusUpdate } from '../../goalstate/index.ts';
import type { Logger } from '../../logging/index.ts';

/** The status document's limit for `error`. */
const maxErrorLength = 1000;

/** Where a service's state goes. */
export interface StatusSink {
  report(service: string, update: StatusUpdate): void;
}

/**
 * The agent's reports before and after its leaf answers: the agent starts (and keeps its
 * services running) before NATS is reachable, so reports are held — the latest per service —
 * until a StatusReporter is attached, then sent. The reporter itself keeps them through
 * later outages.
 */
export class StatusRelay implements StatusSink {
  private reporter: StatusReporter | undefined;
  private readonly latest = new Map<string, StatusUpdate>();

  constructor(private readonly logger: Logger) {}

  report(service: string, update: StatusUpdate): void {
    const fitted = { ...update, error: update.error ? truncate(update.error) : (update.error ?? null) };
    this.latest.set(service, fitted);
    this.send(service, fitted);
  }

  /** The last report of a service (what the agent says about it now). */
  last(service: string): StatusUpdate | undefined {
    return this.latest.get(service);
  }

  attach(reporter: StatusReporter): void {
    this.reporter = reporter;
    for (const [service, update] of this.latest) this.send(service, update);
  }

  detach(): void {
    this.reporter = undefined;
  }

  private send(service: string, update: StatusUpdate): void {
    if (!this.reporter) return;
    try {
      void this.reporter.report(service, update);
    } catch (err) {
      this.logger.error({ err, service }, 'could not encode a status report');
    }
  }
}

function truncate(text: string): string {
  return text.length <= maxErrorLength ? text : `${text.slice(0, maxErrorLength - 1)}…`;
}
