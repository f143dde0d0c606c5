import { isUniqueViolation, toSqlTime, type Database } from '../../../entities/index.ts';

/**
 * Webhook deliveries by id, in SQL (table webhook_deliveries): a redelivery — the sender's
 * retry, "Redeliver" pressed, or the same push after a coordinator restart — queues nothing new
 * and answers with what the first delivery queued. The row is written before the work; a
 * delivery whose work failed is forgotten, so its retry runs again. The work itself must be
 * idempotent (the webhook queues a commit only if it never had a build): a delivery found
 * without its result (the first copy still at work, or the coordinator died during it) runs
 * the work again instead of answering with nothing.
 */
export class DeliveryLog {
  constructor(private readonly db: Database) {}

  async run(id: string, work: () => Promise<number[]>): Promise<{ result: number[]; replay: boolean }> {
    try {
      await this.db.execute(`INSERT INTO webhook_deliveries (id, received_at, builds) VALUES (?, ?, NULL)`, [id, toSqlTime(this.db.dialect, new Date())]);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const [row] = await this.db.query<{ builds: string | null }>(`SELECT builds FROM webhook_deliveries WHERE id = ?`, [id]);
      if (row?.builds != null) return { result: JSON.parse(row.builds) as number[], replay: true };
      return { result: await this.finish(id, work), replay: true };
    }
    try {
      return { result: await this.finish(id, work), replay: false };
    } catch (err) {
      await this.db.execute(`DELETE FROM webhook_deliveries WHERE id = ? AND builds IS NULL`, [id]).catch(() => undefined);
      throw err;
    }
  }

  private async finish(id: string, work: () => Promise<number[]>): Promise<number[]> {
    const result = await work();
    await this.db.execute(`UPDATE webhook_deliveries SET builds = ? WHERE id = ?`, [JSON.stringify(result), id]);
    return result;
  }
}
