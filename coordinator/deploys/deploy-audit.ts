import type { Database } from '../../entities/index.ts';
import { isFleetcastError, type ErrorCode } from '../../errors/index.ts';
import type { AuditSpool } from './audit-spool.ts';
import * as sql from './sql/deploy-sql.ts';

// Refusals by a rule or of a bad request are audited as `refused`; anything else as `error`.
const refusalCodes: ErrorCode[] = ['NOT_DEPLOYABLE', 'LOCKED', 'FROZEN', 'CHECK_FAILED', 'FORBIDDEN', 'NOT_FOUND', 'INVALID_INPUT', 'CONFLICT', 'GOAL_CONFLICT'];

/** The audit log of deploys, rollbacks, rollout control and locks: one row per state change, spooled while SQL is down. */
export class DeployAudit {
  constructor(
    private readonly db: Database,
    private readonly spool: AuditSpool,
  ) {}

  /** Runs a state change and writes its audit row, whatever the outcome; spooled if SQL is down. */
  async run<T>(action: string, target: () => string, actor: string, detail: Record<string, unknown>, work: () => Promise<T>): Promise<T> {
    const at = new Date();
    try {
      const result = await work();
      const replayed = (result as { replayed?: boolean } | null)?.replayed === true;
      await this.write({ at, actor, action, target: target(), result: 'ok', detail: replayed ? { ...detail, replayed: true } : detail });
      return result;
    } catch (err) {
      const error = isFleetcastError(err) ? { code: err.code, message: err.message } : { code: 'INTERNAL', message: String(err) };
      const result = isFleetcastError(err) && refusalCodes.includes(err.code) ? 'refused' : 'error';
      // A rollback without SQL writes its own audit record (spooled) once it has succeeded.
      if (!(action === 'rollback' && isFleetcastError(err, 'DATABASE_UNAVAILABLE'))) {
        await this.write({ at, actor, action, target: target(), result, detail: { ...detail, error } });
      }
      throw err;
    }
  }

  async write(row: sql.AuditInsert): Promise<void> {
    try {
      await sql.insertAudit(this.db, row);
    } catch (err) {
      if (!isFleetcastError(err, 'DATABASE_UNAVAILABLE')) throw err;
      this.spool.write({ audit: { ...row, at: row.at.toISOString() } });
    }
  }
}
