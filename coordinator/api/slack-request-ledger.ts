import { durationParam, type SqlRunner } from '../../entities/index.ts';

/**
 * Bolt accepts a signed request for 5 minutes after its timestamp: a signature is remembered
 * for that window and a little more (clock skew), as the bot's own ReplayGuard does.
 */
export const slackSignatureWindowMs = 6 * 60_000;

/**
 * The Slack request signatures every bot replica has seen, in SQL (slack_replays), so a
 * request captured on the way and replayed to another replica is refused too. Rows expire with
 * the window, in the database's clock; expired ones are deleted as new ones come.
 */
export class SlackRequestLedger {
  constructor(private readonly db: SqlRunner) {}

  /** True the first time this signed request is reported within the window. */
  async firstTime(signature: string, timestamp: string): Promise<boolean> {
    await this.db.execute({
      mysql: `DELETE FROM slack_replays WHERE expires_at < UTC_TIMESTAMP(3)`,
      sqlite: `DELETE FROM slack_replays WHERE expires_at < strftime('%Y-%m-%d %H:%M:%f', 'now')`,
    });
    const result = await this.db.execute(
      {
        mysql: `INSERT IGNORE INTO slack_replays (signature, expires_at) VALUES (?, UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND)`,
        sqlite: `INSERT OR IGNORE INTO slack_replays (signature, expires_at) VALUES (?, strftime('%Y-%m-%d %H:%M:%f', 'now', ?))`,
      },
      [`${timestamp}:${signature}`, durationParam(this.db.dialect, slackSignatureWindowMs, 'ahead')],
    );
    return result.affected > 0;
  }
}
