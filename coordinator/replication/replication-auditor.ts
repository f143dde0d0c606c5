import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../../blobstore/index.ts';
import type { Database } from '../../entities/index.ts';
import { isFleetcastError } from '../../errors/index.ts';
import { silentLogger, type Logger } from '../../logging/index.ts';
import { PeriodicTask } from '../../lifecycle/index.ts';
import { toReplication, type Replication } from './replication.ts';
import { markAudited, markLost, pickForAudit } from './sql/audit.ts';

export interface ReplicationAuditorOptions {
  regions: Record<string, BlobStore>;
  /** Each DONE copy is read back and re-hashed this often. @defaultValue 24 h */
  everyMs?: number;
  /** Time between audit rounds. @defaultValue 10 s */
  intervalMs?: number;
  /** Copies checked per round: reading back costs bucket bandwidth. @defaultValue 4 */
  perRound?: number;
  logger?: Logger;
}

/**
 * Distrusts DONE: reads regional copies back in full and checks their sha256, so an object
 * deleted or damaged after it was verified is noticed, goes back to PENDING and is copied again.
 */
export class ReplicationAuditor {
  private readonly everyMs: number;
  private readonly intervalMs: number;
  private readonly perRound: number;
  private readonly logger: Logger;
  private readonly task: PeriodicTask;

  constructor(
    private readonly db: Database,
    private readonly options: ReplicationAuditorOptions,
  ) {
    this.everyMs = options.everyMs ?? 24 * 3_600_000;
    this.intervalMs = options.intervalMs ?? 10_000;
    this.perRound = options.perRound ?? 4;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'replication-auditor' });
    this.task = new PeriodicTask('audit round', this.intervalMs, () => this.auditOnce(), this.logger);
  }

  /** Checks the copies due; returns those sent back to be copied again. */
  async auditOnce(): Promise<Replication[]> {
    const lost: Replication[] = [];
    for (const copy of (await pickForAudit(this.db, this.everyMs, this.perRound)).map(toReplication)) {
      const store = this.options.regions[copy.region];
      if (!store) continue;
      const problem = await this.check(store, copy);
      if (problem === 'intact') {
        await markAudited(this.db, copy.id);
      } else if (problem !== 'unknown' && (await markLost(this.db, copy.id, problem))) {
        lost.push(copy);
        this.logger.warn({ build: `b${copy.buildId}`, region: copy.region, problem }, 'regional copy lost; copying again');
      }
    }
    return lost;
  }

  start(): void {
    this.task.start();
  }

  async stop(): Promise<void> {
    await this.task.stop();
  }

  /** `intact`, `unknown` (the bucket did not answer), or what is wrong. */
  private async check(store: BlobStore, copy: Replication): Promise<string> {
    const where = `${store.bucket}/${copy.objectName}`;
    try {
      const info = await store.stat(copy.objectName);
      if (info.size !== copy.size || info.sha256 !== copy.digest) {
        return `audit: ${where} has ${info.size} bytes, sha256 ${info.sha256}; expected ${copy.size}, ${copy.digest}`;
      }
      // The recorded digest could be stale: hash what is really stored.
      await pipeline(await store.get(copy.objectName, { verify: true }), new Writable({ write: (_chunk, _enc, done) => done() }));
      return 'intact';
    } catch (err) {
      if (isFleetcastError(err, 'NOT_FOUND')) return `audit: ${where} is missing`;
      if (isFleetcastError(err, 'DIGEST_MISMATCH')) return `audit: ${where} is corrupted (${err.message})`;
      // The bucket did not answer: not evidence of loss. Try again next round.
      this.logger.warn({ err, region: copy.region }, 'audit read failed');
      return 'unknown';
    }
  }
}
