// Fixtures of the deploy tests: an in-memory goal store and a fleet whose machines the
// test moves by hand.
import { FleetcastError } from '../../errors/index.ts';
import { emptySummary, inShare, nextSeq, signGoal, type GoalContent, type GoalRevision, type GoalTarget, type ServiceStatusSummary } from '../../goalstate/index.ts';
import { generateSigningKey, signingKeyFromPem } from '../../trust/index.ts';
import type { FleetState, GoalStore } from '../../coordinator/deploys/goal-store.ts';

/** The goal bucket's behaviour that deploys rely on: revisions, compare-and-set, history, signed documents with growing sequences. */
export class MemoryGoals implements GoalStore {
  private revision = 0;
  readonly key = signingKeyFromPem(generateSigningKey().privatePem);
  readonly signs = true;
  readonly entries = new Map<string, GoalRevision[]>();
  /** Keys whose newest value does not parse, with its revision (what a hand-written value does to readers). */
  readonly malformed = new Map<string, number>();
  async get(service: string, region: string) {
    const key = `${service}.${region}`;
    const bad = this.malformed.get(key);
    if (bad !== undefined) throw new FleetcastError('GOAL_INVALID', `goal ${key} at revision ${bad} is malformed (the value is not JSON)`, { key, revision: bad });
    return this.entries.get(key)?.[0] ?? null;
  }
  putMalformed(service: string, region: string): number {
    const revision = ++this.revision;
    this.malformed.set(`${service}.${region}`, revision);
    return revision;
  }
  async history(service: string, region: string) {
    return this.entries.get(`${service}.${region}`) ?? [];
  }
  /** Prefetch hints by `<service>.<region>`, newest only. */
  readonly prefetch = new Map<string, GoalRevision>();
  async putPrefetch(content: GoalContent): Promise<GoalRevision> {
    const key = `${content.service}.${content.region}`;
    const goal = signGoal(content, 'prefetch', nextSeq(Math.max(this.seqOf(key), this.prefetch.get(key)?.goal.seq ?? 0)), this.key);
    const entry = { goal, revision: ++this.revision, storedAt: new Date() };
    this.prefetch.set(key, entry);
    return entry;
  }
  async put(content: GoalContent, options: { expectedRevision: number | null }): Promise<GoalRevision> {
    const key = `${content.service}.${content.region}`;
    const current = this.malformed.get(key) ?? this.entries.get(key)?.[0]?.revision ?? null;
    if (current !== options.expectedRevision) throw new FleetcastError('GOAL_CONFLICT', `goal ${key} changed`);
    this.malformed.delete(key);
    const goal = signGoal(content, 'goal', nextSeq(this.seqOf(key)), this.key);
    const entry = { goal, revision: ++this.revision, storedAt: new Date() };
    this.entries.set(key, [entry, ...(this.entries.get(key) ?? [])]);
    return entry;
  }
  private seqOf(key: string): number {
    return Math.max(0, ...(this.entries.get(key) ?? []).map((e) => e.goal.seq));
  }
}

/**
 * Machines per region with the build each runs (or has failed on): what agents would report.
 * A machine set to run a build reports the digest and sequence of the region's current goal
 * when that goal names the build (what a real agent applied), unless the test gives its own.
 */
export class HandMovedFleet implements FleetState {
  readonly goalStore = new MemoryGoals();
  /** region → machine → [build, state, what it says it applied]. */
  readonly machines = new Map<string, Map<string, { build: string; state: 'running' | 'failed' | 'downloading'; applied?: { digest: string; seq: number } }>>();
  /** Regions whose reports cannot be read. */
  readonly unreadable = new Set<string>();

  goals(): GoalStore {
    return this.goalStore;
  }

  set(region: string, machine: string, build: string, state: 'running' | 'failed' | 'downloading' = 'running', applied?: { digest: string; seq: number }): void {
    if (!this.machines.has(region)) this.machines.set(region, new Map());
    this.machines.get(region)!.set(machine, { build, state, ...(applied ? { applied } : {}) });
  }

  summary(region: string, service: string, target: GoalTarget | null): ServiceStatusSummary | null {
    if (this.unreadable.has(region)) return null;
    const summary = emptySummary(region, service, target);
    const current = this.goalStore.entries.get(`${service}.${region}`)?.[0]?.goal;
    for (const [machine, { build, state, applied }] of this.machines.get(region) ?? []) {
      // A canary goal counts only the machines in its share, as the status view does.
      if (target?.share && !inShare(service, machine, target.share)) continue;
      summary.machines++;
      const says = applied ?? (current?.build === build ? { digest: current.digest, seq: current.seq } : undefined);
      if (build !== target?.build) summary.other++;
      else if (state === 'running') {
        if (says && says.digest === target.digest && says.seq === target.seq) summary.running++;
        else summary.mismatched++;
      }
      else if (state === 'failed') {
        summary.failed.machines++;
        summary.failed.examples.push({ machine, build, error: 'health check failed', at: new Date().toISOString() });
      } else summary.downloading.machines++;
    }
    return summary;
  }
}
