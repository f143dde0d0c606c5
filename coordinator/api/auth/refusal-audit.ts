import type { FleetcastError } from '../../../errors/index.ts';
import type { Logger } from '../../../logging/index.ts';

/** An audit row as DeployService.record writes it (spooled while SQL is down). */
export interface AuditRow {
  at: Date;
  actor: string;
  action: string;
  target: string;
  result: 'ok' | 'refused' | 'error';
  detail: Record<string, unknown>;
}

export interface Refusal {
  /** The audit action of the route (deploy, build…), or `request` for reads. */
  action: string;
  /** The service, or the deployment or build the route names, or the route's URL pattern. */
  target: string;
  /** Who was refused: the token's holder, the person a relay acted for, or `unknown-token`. */
  actor: string;
  error: FleetcastError;
  detail: Record<string, unknown>;
}

/** Refusals written per window at most; the rest are counted into one row. @defaultValue 60 per minute */
const defaultLimit = { rows: 60, windowMs: 60_000 };

/**
 * Writes refused requests (401, 403) into the audit, at most `rows` per window: a flood of bad
 * tokens costs one summary row per window (`refusals-suppressed`, with the count), not one row
 * each, so it cannot fill the disk. A refusal stands whatever happens to its row.
 */
export class RefusalAudit {
  private windowStart = 0;
  private written = 0;
  private suppressed = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: (row: AuditRow) => Promise<void>,
    private readonly logger: Logger,
    private readonly limit = defaultLimit,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a refusal; resolves once its row is written (or could not be: never rejects), so the refusal is answered after the audit holds it. */
  note(refusal: Refusal): Promise<void> {
    const now = this.now();
    if (now - this.windowStart >= this.limit.windowMs) this.roll(now);
    if (this.written >= this.limit.rows) {
      // The count is written when the window ends, even if the flood stopped.
      if (this.suppressed++ === 0) this.timer = setTimeout(() => this.roll(this.now()), this.windowStart + this.limit.windowMs - now).unref();
      return Promise.resolve();
    }
    this.written++;
    const { error } = refusal;
    return this.emit({ at: new Date(now), actor: refusal.actor, action: refusal.action, target: refusal.target, result: 'refused', detail: { ...refusal.detail, error: { code: error.code, message: error.message } } });
  }

  /** Writes the count of the current window now, if any were left out (the server is closing). */
  stop(): void {
    this.roll(this.now());
  }

  /** Starts a new window, writing the count of the one before if any were left out. */
  private roll(now: number): void {
    clearTimeout(this.timer);
    if (this.suppressed > 0) {
      void this.emit({ at: new Date(now), actor: 'coordinator', action: 'refusals-suppressed', target: 'api', result: 'refused', detail: { count: this.suppressed, since: new Date(this.windowStart).toISOString() } });
    }
    this.windowStart = now;
    this.written = 0;
    this.suppressed = 0;
  }

  private emit(row: AuditRow): Promise<void> {
    return this.write(row).catch((err: unknown) => this.logger.warn({ err }, 'could not audit a refused request'));
  }
}
