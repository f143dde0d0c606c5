import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Database, DeploymentStatus } from '../../entities/index.ts';
import type { Logger } from '../../logging/index.ts';
import {
  finishDeployment,
  insertAudit,
  insertDeployment,
  insertLockIfAbsent,
  recordRollback,
  replaceLock,
  updateDeploymentProgress,
  type AuditInsert,
  type DeploymentInsert,
  type DeploymentProgressUpdate,
} from './sql/deploy-sql.ts';

/**
 * What a state change wanted to write to SQL while SQL was down: an audit row, and for a
 * rollback its deployment (under a placeholder id) and lock. Times are the times it happened.
 */
export interface SpooledRecord {
  audit?: Omit<AuditInsert, 'at'> & { at: string };
  deployment?: Omit<DeploymentInsert, 'createdAt'> & { createdAt: string; placeholderId: string };
  lock?: { service: string; lockedBy: string; reason: string; since: string; replace: boolean };
  /** A deployment row left WRITING when SQL went away after its goals were written: its final status. */
  finish?: { id: number; status: 'ROLLING'; waves?: string };
  /** A rollout step the wave runner took while SQL was down (a wave failed): recorded if the deployment's waves are still as read. */
  rollout?: { id: number; expected: { waves: string | null; status: DeploymentStatus }; update: Omit<DeploymentProgressUpdate, 'convergedAt'> };
  /** The rollback that undid a failed or aborted deployment; a placeholder id is replaced by the real one flushed before it. */
  rolledBack?: { id: number; rollback: string | null; error: string };
}

/** Where the spool lives: `<data dir>/pending-audit/`, one JSON file per record. */
export function spoolDir(dataDir: string): string {
  return path.join(dataDir, 'pending-audit');
}

/**
 * Files of records waiting for the database. A file is written whole (temp + fsync + rename)
 * before the request answers, so a coordinator crash loses nothing; flush() writes each one in
 * a transaction and only then deletes the file. A crash between the commit and the delete
 * writes that record twice when it comes back — an extra audit row, never a lost one.
 */
export class AuditSpool {
  constructor(
    private readonly dir: string,
    private readonly logger: Logger,
  ) {}

  write(record: SpooledRecord): string {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // Time first in the name: flush() replays in the order things happened.
    const name = `${Date.now().toString().padStart(15, '0')}-${randomUUID()}.json`;
    const temp = path.join(this.dir, `.${name}.tmp`);
    const fd = fs.openSync(temp, 'w', 0o600);
    try {
      fs.writeSync(fd, JSON.stringify(record));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, path.join(this.dir, name));
    // The rename is only durable once the directory is: without this a power loss can lose the file.
    syncDirectory(this.dir);
    this.logger.warn({ file: name, ...describe(record) }, 'database unavailable: record spooled until it answers');
    return name;
  }

  pending(): string[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs
      .readdirSync(this.dir)
      .filter((name) => name.endsWith('.json') && !name.startsWith('.'))
      .sort();
  }

  /**
   * Writes every spooled record into SQL, oldest first; stops at the first failure (the database
   * is still down). A file that cannot be read as a record is moved aside (`<name>.unreadable`)
   * with a warning: one damaged file must not stop every later record from reaching SQL.
   */
  async flush(db: Database): Promise<number> {
    let flushed = 0;
    // Placeholder deployment ids → the ids their spooled deployments got, for records that name them.
    const realIds = new Map<string, string>();
    for (const name of this.pending()) {
      const file = path.join(this.dir, name);
      const record = this.read(file);
      if (record === null) continue;
      await db.transaction(async (tx) => {
        const detail: Record<string, unknown> = { ...record.audit?.detail, spooled: true };
        // Spooled by an older coordinator: APPLIED is now ROLLING (the wave runner judges it).
        if (record.finish) await finishDeployment(tx, record.finish.id, 'ROLLING', null, record.finish.waves);
        if (record.deployment) {
          const { placeholderId, createdAt, status, ...deployment } = record.deployment;
          const id = await insertDeployment(tx, { ...deployment, status: (status as string) === 'APPLIED' ? 'ROLLING' : status, createdAt: new Date(createdAt) });
          realIds.set(placeholderId, `d${id}`);
          Object.assign(detail, { deployment: `d${id}`, placeholderDeployment: placeholderId });
        }
        if (record.rollout) await updateDeploymentProgress(tx, record.rollout.id, record.rollout.expected, { ...record.rollout.update, convergedAt: null });
        if (record.rolledBack) {
          const { id, rollback, error } = record.rolledBack;
          await recordRollback(tx, id, rollback === null ? null : (realIds.get(rollback) ?? rollback), error);
        }
        if (record.lock) {
          const { service, lockedBy, reason, since, replace } = record.lock;
          if (replace) await replaceLock(tx, service, lockedBy, reason, new Date(since));
          else await insertLockIfAbsent(tx, service, lockedBy, reason, new Date(since));
        }
        if (record.audit) await insertAudit(tx, { ...record.audit, at: new Date(record.audit.at), detail });
      });
      fs.rmSync(file);
      flushed++;
      this.logger.info({ file: name, ...describe(record) }, 'spooled record written to the database');
    }
    return flushed;
  }

  /** The record in a spool file, or null when it cannot be one (the file is then moved aside). */
  private read(file: string): SpooledRecord | null {
    try {
      const record = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
      if (typeof record === 'object' && record !== null && !Array.isArray(record)) return record as SpooledRecord;
      throw new Error('not a JSON object');
    } catch (err) {
      const aside = `${file}.unreadable`;
      fs.renameSync(file, aside);
      syncDirectory(this.dir);
      this.logger.warn({ file: path.basename(file), movedTo: path.basename(aside), err }, 'spooled record cannot be read: moved aside (not written to SQL); look at it by hand');
      return null;
    }
  }
}

/** fsync of a directory: makes the renames and unlinks in it durable. */
function syncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function describe(record: SpooledRecord): Record<string, unknown> {
  return { action: record.audit?.action ?? null, target: record.audit?.target ?? record.lock?.service ?? null, deployment: record.finish ? `d${record.finish.id}` : record.rollout ? `d${record.rollout.id}` : record.rolledBack ? `d${record.rolledBack.id}` : null };
}
