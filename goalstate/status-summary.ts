import type { StatusReport } from './status-document.ts';

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

/** Where the machines of one service in one region stand against its goal. */
export interface ServiceStatusSummary {
  region: string;
  service: string;
  /** The build counted as "the goal"; null counts every build. */
  goalBuild: string | null;
  /** Machines with a report for the service (silent ones included). */
  machines: number;
  /** Reporting in time and running the goal build. */
  running: number;
  /** Reporting in time and fetching, verifying or installing the goal build; bytes summed. */
  downloading: { machines: number; bytes: number; total: number };
  /** Reporting in time and failed on the goal build, with a few examples. */
  failed: { machines: number; examples: FailedMachine[] };
  /** No report within silentAfterMs. */
  silent: number;
  /** Reporting in time but idle, or on another build than the goal. */
  other: number;
  /** Machines reporting in time and running, by build: what the region actually runs. */
  runningBuilds: Record<string, number>;
}

export interface SummaryOptions {
  goalBuild: string | null;
  nowMs: number;
  silentAfterMs: number;
  /** @defaultValue 5 */
  maxExamples?: number;
}

/** The summary of a service no machine reports on (yet). */
export function emptySummary(region: string, service: string, goalBuild: string | null): ServiceStatusSummary {
  return {
    region,
    service,
    goalBuild,
    machines: 0,
    running: 0,
    downloading: { machines: 0, bytes: 0, total: 0 },
    failed: { machines: 0, examples: [] },
    silent: 0,
    other: 0,
    runningBuilds: {},
  };
}

/** One pass over a service's reports: O(machines of the service), no I/O. */
export function summarizeService(region: string, service: string, entries: Iterable<StatusEntry>, options: SummaryOptions): ServiceStatusSummary {
  const { goalBuild, nowMs, silentAfterMs } = options;
  const maxExamples = options.maxExamples ?? 5;
  const summary = emptySummary(region, service, goalBuild);
  for (const { report, storedAtMs } of entries) {
    summary.machines++;
    if (nowMs - storedAtMs > silentAfterMs) {
      summary.silent++;
      continue;
    }
    if (report.state === 'running' && report.build !== null) summary.runningBuilds[report.build] = (summary.runningBuilds[report.build] ?? 0) + 1;
    const onGoal = goalBuild === null || report.build === goalBuild;
    if (!onGoal) {
      summary.other++;
    } else if (report.state === 'running') {
      summary.running++;
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
  return summary;
}
