import type { Database } from '../../entities/index.ts';

/**
 * How far the relay has looked in one table (github_cursors): every row with a lower or equal id
 * has had its final event added. Kept in SQL so a restarted coordinator goes on where it stopped;
 * a new one starts at the table's newest row, so history is not sent to GitHub.
 */
export class GithubCursor {
  private constructor(
    private readonly db: Database,
    private readonly name: string,
    private current: number,
  ) {}

  static async open(db: Database, name: 'builds' | 'deployments'): Promise<GithubCursor> {
    const [row] = await db.query(`SELECT value FROM github_cursors WHERE name = ?`, [name]);
    if (row) return new GithubCursor(db, name, Number(row.value));
    const [max] = await db.query(`SELECT COALESCE(MAX(id), 0) AS id FROM ${name}`);
    const start = Number(max?.id ?? 0);
    await db.execute(
      { mysql: `INSERT IGNORE INTO github_cursors (name, value) VALUES (?, ?)`, sqlite: `INSERT OR IGNORE INTO github_cursors (name, value) VALUES (?, ?)` },
      [name, start],
    );
    const [stored] = await db.query(`SELECT value FROM github_cursors WHERE name = ?`, [name]);
    return new GithubCursor(db, name, Number(stored!.value));
  }

  get value(): number {
    return this.current;
  }

  /** Moves forward only. */
  async advance(to: number): Promise<void> {
    if (to <= this.current) return;
    await this.db.execute(`UPDATE github_cursors SET value = ? WHERE name = ? AND value < ?`, [to, this.name, to]);
    this.current = to;
  }
}
