import type { RefusalCode, StatusReport } from './status-document.ts';

/** A report as the view holds it: the document and when the leaf stored it (server clock). */
export interface StatusEntry {
  report: StatusReport;
  storedAtMs: number;
}

export interface FailedMachine {
  machine: string;
  build: string | null;
  error: string | null;
  /** Where the failed build's output is on that machine, when its agent says. */
  log?: string;
  at: string;
}

/**
 * What counts as running the goal: the signed document the coordinator wrote. A machine runs it
 * only when it reports that build, with that digest, applied from that document's sequence.
 */
export interface GoalTarget {
  build: string;
  /** null (a wave not written yet): no machine counts as running it. */
  digest: string | null;
  seq: number | null;
}

export interface RefusingMachine {
  machine: string;
  code: RefusalCode;
  message: string;
  at: string;
}

/** Where the machines of one service in one region stand against its goal. */
export interface ServiceStatusSummary {
  region: string;
  service: string;
  /** The build counted as "the goal"; null counts every build. */
  goalBuild: string | null;
  /** The digest and sequence of the signed goal a running machine must report; null when there is no target. */
  goalDigest: string | null;
  goalSeq: number | null;
  /** Machines with a report for the service (silent ones included). */
  machines: number;
  /** Reporting in time and running the goal: its build, digest and sequence. */
  running: number;
  /**
   * Reporting in time that they run the goal build, but with another digest or goal sequence:
   * not running the signed goal (a stale, tampered or faked report). Never counted as running.
   */
  mismatched: number;
  /**
   * Reporting in time a document they refused (GOAL_SIGNATURE_INVALID, GOAL_REPLAYED,
   * GOAL_INVALID) and no accepted one since; counted besides their state (they keep running
   * their build). By code, with a few examples.
   */
  refused: { machines: number; codes: Partial<Record<RefusalCode, number>>; examples: RefusingMachine[] };
  /** Reporting in time and fetching, verifying or installing the goal build; bytes summed. */
  downloading: { machines: number; bytes: number; total: number };
  /** Reporting in time and failed on the goal build, with a few examples. */
  failed: { machines: number; examples: FailedMachine[] };
  /** No report within silentAfterMs. */
  silent: number;
  /** Reporting in time but idle, or on another build than the goal (mismatched ones not included). */
  other: number;
  /** Machines reporting in time and running, by build: what the region actually runs. */
  runningBuilds: Record<string, number>;
  /**
   * Reporting in time, neither running the goal build nor failed on it, with the goal build
   * verified in their cache (counted in `other` or `downloading` too): they switch to it
   * without a transfer. 0 without a goal build, and for agents older than the `cached` report.
   */
  holding: number;
  /** Machines reporting in time and running, by build and the sha256 they report for it, most machines first. */
  runningDigests: RunningDigest[];
}

/** How many machines run a build with a digest (reported, verified by each agent when it installed the build). */
export interface RunningDigest {
  build: string;
  digest: string;
  machines: number;
}

export interface SummaryOptions {
  /** The signed goal to judge against; null counts every build as the goal. */
  goal: GoalTarget | null;
  nowMs: number;
  silentAfterMs: number;
  /** @defaultValue 5 */
  maxExamples?: number;
}

/** The summary of a service no machine reports on (yet). */
export function emptySummary(region: string, service: string, goal: GoalTarget | null): ServiceStatusSummary {
  return {
    region,
    service,
    goalBuild: goal?.build ?? null,
    goalDigest: goal?.digest ?? null,
    goalSeq: goal?.seq ?? null,
    machines: 0,
    running: 0,
    mismatched: 0,
    refused: { machines: 0, codes: {}, examples: [] },
    downloading: { machines: 0, bytes: 0, total: 0 },
    failed: { machines: 0, examples: [] },
    silent: 0,
    other: 0,
    runningBuilds: {},
    holding: 0,
    runningDigests: [],
  };
}

/** One pass over a service's reports: O(machines of the service), no I/O. */
export function summarizeService(region: string, service: string, entries: Iterable<StatusEntry>, options: SummaryOptions): ServiceStatusSummary {
  const { goal, nowMs, silentAfterMs } = options;
  const maxExamples = options.maxExamples ?? 5;
  const summary = emptySummary(region, service, goal);
  const digests = new Map<string, RunningDigest>();
  for (const { report, storedAtMs } of entries) {
    summary.machines++;
    if (nowMs - storedAtMs > silentAfterMs) {
      summary.silent++;
      continue;
    }
    if (report.refusal) {
      const { refused } = summary;
      refused.machines++;
      refused.codes[report.refusal.code] = (refused.codes[report.refusal.code] ?? 0) + 1;
      if (refused.examples.length < maxExamples) refused.examples.push({ machine: report.machine, code: report.refusal.code, message: report.refusal.message, at: report.refusal.at });
    }
    if (report.state === 'running' && report.build !== null) summary.runningBuilds[report.build] = (summary.runningBuilds[report.build] ?? 0) + 1;
    if (report.state === 'running' && report.build !== null && report.digest !== null) countDigest(digests, report.build, report.digest);
    if (goal !== null && report.cached.includes(goal.build) && !(report.build === goal.build && (report.state === 'running' || report.state === 'failed'))) summary.holding++;
    const onGoal = goal === null || report.build === goal.build;
    if (!onGoal) {
      summary.other++;
    } else if (report.state === 'running') {
      if (goal === null || (goal.seq !== null && report.digest === goal.digest && report.seq === goal.seq)) summary.running++;
      else summary.mismatched++;
    } else if (report.state === 'downloading' || report.state === 'verifying' || report.state === 'installing') {
      summary.downloading.machines++;
      summary.downloading.bytes += report.bytes;
      summary.downloading.total += report.total;
    } else if (report.state === 'failed') {
      summary.failed.machines++;
      if (summary.failed.examples.length < maxExamples) {
        summary.failed.examples.push({ machine: report.machine, build: report.build, error: report.error, ...(report.log ? { log: report.log } : {}), at: report.at });
      }
    } else {
      summary.other++;
    }
  }
  summary.runningDigests = [...digests.values()].sort((a, b) => b.machines - a.machines || a.build.localeCompare(b.build) || a.digest.localeCompare(b.digest));
  return summary;
}

function countDigest(digests: Map<string, RunningDigest>, build: string, digest: string): void {
  const key = `${build}@${digest}`;
  const found = digests.get(key);
  if (found) found.machines++;
  else digests.set(key, { build, digest, machines: 1 });
}
