// Fixtures of the deploy tests: an in-memory goal store and a fleet whose machines the
// test moves by hand.
import { FleetcastError } from '../../errors/index.ts';
import { emptySummary, type Goal, type GoalRevision, type ServiceStatusSummary } from '../../goalstate/index.ts';
import type { FleetState, GoalStore } from '../../coordinator/deploys/goal-store.ts';

/** The goal bucket's behaviour that deploys rely on: revisions, compare-and-set, history. */
export class MemoryGoals implements GoalStore {
  private revision = 0;
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
  async putPrefetch(goal: Goal) {
    const entry = { goal, revision: ++this.revision, storedAt: new Date() };
    this.prefetch.set(`${goal.service}.${goal.region}`, entry);
    return entry.revision;
  }
  async put(goal: Goal, options: { expectedRevision: number | null }) {
    const key = `${goal.service}.${goal.region}`;
    const current = this.malformed.get(key) ?? this.entries.get(key)?.[0]?.revision ?? null;
    if (current !== options.expectedRevision) throw new FleetcastError('GOAL_CONFLICT', `goal ${key} changed`);
    this.malformed.delete(key);
    const entry = { goal, revision: ++this.revision, storedAt: new Date() };
    this.entries.set(key, [entry, ...(this.entries.get(key) ?? [])]);
    return entry.revision;
  }
}

/** Machines per region with the build each runs (or has failed on): what agents would report. */
export class HandMovedFleet implements FleetState {
  readonly goalStore = new MemoryGoals();
  /** region → machine → [build, state]. */
  readonly machines = new Map<string, Map<string, { build: string; state: 'running' | 'failed' | 'downloading' }>>();
  /** Regions whose reports cannot be read. */
  readonly unreadable = new Set<string>();

  goals(): GoalStore {
    return this.goalStore;
  }

  set(region: string, machine: string, build: string, state: 'running' | 'failed' | 'downloading' = 'running'): void {
    if (!this.machines.has(region)) this.machines.set(region, new Map());
    this.machines.get(region)!.set(machine, { build, state });
  }

  summary(region: string, service: string, goalBuild: string | null): ServiceStatusSummary | null {
    if (this.unreadable.has(region)) return null;
    const summary = emptySummary(region, service, goalBuild);
    for (const [machine, { build, state }] of this.machines.get(region) ?? []) {
      summary.machines++;
      if (build !== goalBuild) summary.other++;
      else if (state === 'running') summary.running++;
      else if (state === 'failed') {
        summary.failed.machines++;
        summary.failed.examples.push({ machine, build, error: 'health check failed', at: new Date().toISOString() });
      } else summary.downloading.machines++;
    }
    return summary;
  }
}
