import { FleetcastError } from '../../errors/index.ts';
import { goalContent, noSigningKey, type Goal, type GoalRevision } from '../../goalstate/index.ts';
import { parseBuildId } from '../../queue/index.ts';
import type { AuditSpool } from './audit-spool.ts';
import { placeholderDeploymentId, type Deployment } from './deployment.ts';
import type { GoalStore } from './goal-store.ts';
import { signedRecord } from './wave-writer.ts';
import { encodeWaves, type Wave } from './waves.ts';

export interface SqlFreeRollback {
  service: string;
  regions: string[];
  to: string | undefined;
  by: string;
  /** The relay (Slack bot) that asked for `by`, for the audit row. */
  via?: { token: string; id: string } | undefined;
  reason: string;
  /** The lock's reason. @defaultValue `rolled back by <by>` */
  lockReason?: string | undefined;
}

/**
 * A rollback while the SQL database is down (on-call must be able to roll back during an
 * outage): each region's previous build comes from the goal's KV history — the newest goal of
 * another build than the current one, or the goal of `to` — and is written back with
 * compare-and-set. The deployment, its audit row and the lock are spooled and written to SQL
 * when it answers again; the goals carry a placeholder deployment id (placeholderDeploymentId).
 * Not checked here, for want of SQL: the build's replication (a goal in the history was
 * deployable when written; retention keeps the newest builds of a service).
 * The history holds only goals a trusted key signed (GoalWriter.history): an unsigned or forged
 * entry is never a rollback target. Each new goal is signed with a sequence above the key's
 * (from the goal bucket, not SQL); the spooled deployment keeps what was signed in each region,
 * and is judged against it once SQL has it.
 */
export async function rollbackFromGoalHistory(goals: GoalStore, spool: AuditSpool, request: SqlFreeRollback): Promise<Deployment> {
  if (!goals.signs) throw noSigningKey(`the rollback of ${request.service}`);
  const at = new Date();
  const deployment = placeholderDeploymentId(at);
  const wanted = request.to === undefined ? undefined : `b${parseBuildId(request.to)}`;
  // Every region's target first: nothing is written unless every region has one.
  const plans: { region: string; target: Goal; revision: number }[] = [];
  for (const region of request.regions) {
    const history = await goals.history(request.service, region);
    const current = history[0];
    if (!current) {
      throw new FleetcastError('NOT_FOUND', `${request.service} has no goal in ${region}: nothing to roll back there (the database is down, so only the goal history can be used)`, { service: request.service, region });
    }
    const target = pickTarget(history, wanted);
    if (!target) {
      throw new FleetcastError(
        'NOT_FOUND',
        wanted
          ? `${wanted} is not in the goal history of ${request.service} in ${region}; while the database is down only builds in that history can be rolled back to`
          : `the goal history of ${request.service} in ${region} holds no build other than ${current.goal.build}; nothing to roll back to`,
        { service: request.service, region },
      );
    }
    plans.push({ region, target: target.goal, revision: current.revision });
  }
  const signed: Wave['goals'] = {};
  for (const plan of plans) {
    // A rollback goes to every machine of the region: never the canary share the earlier goal had.
    const { canary: _canary, ...content } = goalContent(plan.target);
    const stored = await goals.put({ ...content, deployment, kind: 'rollback', by: request.by, at: at.toISOString(), reason: request.reason }, { expectedRevision: plan.revision });
    signed[plan.region] = signedRecord(stored);
    const { goal } = stored;
    // Straight to the spool: SQL is down, and an incident should not wait on it once more per region.
    spool.write({
      audit: {
        at: new Date().toISOString(),
        actor: request.by,
        action: 'goal-write',
        target: request.service,
        result: 'ok',
        detail: { deployment, kind: 'rollback', build: goal.build, digest: goal.digest, region: plan.region, seq: goal.seq, revision: stored.revision, key: goal.sig.key, withoutDatabase: true },
      },
    });
  }
  const waves: Wave[] = [{ regions: request.regions, status: 'WRITTEN', writtenAt: at, doneAt: null, goals: signed }];
  // The deployment row names one build: the first region's (they agree unless regions ran different builds).
  const build = plans[0]!.target.build;
  spool.write({
    deployment: {
      placeholderId: deployment,
      service: request.service,
      buildId: parseBuildId(build),
      regions: request.regions,
      kind: 'rollback',
      requestedBy: request.by,
      reason: request.reason,
      status: 'ROLLING',
      createdAt: at.toISOString(),
      error: null,
      waves: encodeWaves(waves),
    },
    lock: { service: request.service, lockedBy: request.by, reason: request.lockReason ?? `rolled back by ${request.by}`, since: at.toISOString(), replace: true },
    audit: {
      at: at.toISOString(),
      actor: request.by,
      action: 'rollback',
      target: request.service,
      result: 'ok',
      detail: {
        to: request.to ?? null,
        regions: request.regions,
        reason: request.reason,
        ...(request.via ? { via: request.via } : {}),
        build,
        builds: Object.fromEntries(plans.map((p) => [p.region, p.target.build])),
        withoutDatabase: true,
      },
    },
  });
  return {
    id: deployment,
    service: request.service,
    build,
    regions: request.regions,
    kind: 'rollback',
    requestedBy: request.by,
    reason: request.reason,
    status: 'ROLLING',
    createdAt: at,
    error: null,
    waves,
    convergedAt: null,
    rollback: null,
    spooled: true,
  };
}

function pickTarget(history: GoalRevision[], wanted: string | undefined): GoalRevision | undefined {
  if (wanted) return history.find((entry) => entry.goal.build === wanted);
  const current = history[0]!.goal.build;
  return history.find((entry) => entry.goal.build !== current);
}
