import { fromSqlTime, toSqlTime, type Database } from '../../entities/index.ts';
import type { GithubEvent } from './github-event.ts';

/** A row of the outbox: one call to make, in order with the others of its repository. */
export interface OutboxRow {
  id: number;
  key: string;
  /** `owner/name`. */
  repo: string;
  event: GithubEvent;
  attempts: number;
  nextAttemptAt: Date;
}

/**
 * The durable queue of calls to GitHub (table github_outbox). Events are added once (a unique
 * key per event), delivered in id order per repository, retried with backoff; a build or deploy
 * never waits for it. Delivered rows keep GitHub's id (a deployment's, which its statuses need).
 */
export class GithubOutbox {
  constructor(private readonly db: Database) {}

  /** Adds the event unless one with the key is there already. */
  async add(key: string, repo: string, event: GithubEvent, now = new Date()): Promise<void> {
    const at = toSqlTime(this.db.dialect, now);
    await this.db.execute(
      {
        mysql: `INSERT IGNORE INTO github_outbox (event_key, repo, payload, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?)`,
        sqlite: `INSERT OR IGNORE INTO github_outbox (event_key, repo, payload, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?)`,
      },
      [key, repo, JSON.stringify(event), at, at],
    );
  }

  /** The oldest undelivered rows, in order. */
  async pending(limit: number): Promise<OutboxRow[]> {
    const rows = await this.db.query(`SELECT id, event_key, repo, payload, attempts, next_attempt_at FROM github_outbox WHERE delivered_at IS NULL ORDER BY id LIMIT ${Math.trunc(limit)}`);
    return rows.map((row) => ({
      id: Number(row.id),
      key: String(row.event_key),
      repo: String(row.repo),
      event: JSON.parse(String(row.payload)) as GithubEvent,
      attempts: Number(row.attempts),
      nextAttemptAt: fromSqlTime(row.next_attempt_at)!,
    }));
  }

  /**
   * Takes the row for one try: moves its next attempt `leaseMs` ahead, if nobody else did
   * (another coordinator). True: this process sends it.
   */
  async lease(row: OutboxRow, leaseMs: number, now = new Date()): Promise<boolean> {
    const { affected } = await this.db.execute(`UPDATE github_outbox SET next_attempt_at = ?, attempts = attempts + 1 WHERE id = ? AND attempts = ? AND delivered_at IS NULL`, [
      toSqlTime(this.db.dialect, new Date(now.getTime() + leaseMs)),
      row.id,
      row.attempts,
    ]);
    return affected === 1;
  }

  async delivered(id: number, githubId: number | null, note: string | null = null, now = new Date()): Promise<void> {
    await this.db.execute(`UPDATE github_outbox SET delivered_at = ?, github_id = ?, last_error = ? WHERE id = ?`, [toSqlTime(this.db.dialect, now), githubId, note, id]);
  }

  async failed(id: number, error: string, retryAt: Date): Promise<void> {
    await this.db.execute(`UPDATE github_outbox SET last_error = ?, next_attempt_at = ? WHERE id = ?`, [error.slice(0, 2000), toSqlTime(this.db.dialect, retryAt), id]);
  }

  /** GitHub's id of a delivered event (a deployment); undefined while it is not delivered, null when it was given up. */
  async githubId(key: string): Promise<number | null | undefined> {
    const [row] = await this.db.query(`SELECT github_id, delivered_at FROM github_outbox WHERE event_key = ?`, [key]);
    if (!row || row.delivered_at === null || row.delivered_at === undefined) return undefined;
    return row.github_id === null || row.github_id === undefined ? null : Number(row.github_id);
  }

  /** How many events wait (for /metrics and the tests). */
  async backlog(): Promise<number> {
    const [row] = await this.db.query(`SELECT COUNT(*) AS n FROM github_outbox WHERE delivered_at IS NULL`);
    return Number(row?.n ?? 0);
  }
}
