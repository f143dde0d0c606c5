import type { AgentState, StatusReport } from './status-document.ts';

/** A filter of a region's machine list: the dashboard's "failed", "silent" or "on b42". */
export interface MachineQuery {
  service?: string | undefined;
  /** An agent state, or `silent` (no report within the silent time, whatever it said last). */
  state?: AgentState | 'silent' | undefined;
  build?: string | undefined;
  /** The `next` of the previous page: machines after this key. */
  after?: string | undefined;
  limit: number;
}

export interface MachineRow {
  service: string;
  machine: string;
  build: string | null;
  state: AgentState;
  silent: boolean;
  error: string | null;
  bytes: number;
  total: number;
  peers: number;
  /** When the region's bucket stored the last report (the server's clock). */
  reportedAt: string;
}

export interface MachinePage {
  machines: MachineRow[];
  /** Pass as `after` for the next page; null: this was the last. */
  next: string | null;
}

export interface HeldReport {
  report: StatusReport;
  storedAtMs: number;
}

/**
 * One page of a region's machines in key order (`service.machine`), filtered. A pass over the
 * reports held in memory: a failed machine among 100,000 is found without touching NATS or SQL.
 */
export function machinePage(byService: ReadonlyMap<string, ReadonlyMap<string, HeldReport>>, query: MachineQuery, silentAfterMs: number, nowMs: number): MachinePage {
  const matching: { key: string; row: MachineRow }[] = [];
  const services = query.service === undefined ? [...byService.keys()] : [query.service];
  for (const service of services) {
    for (const [machine, held] of byService.get(service) ?? []) {
      const key = `${service}.${machine}`;
      if (query.after !== undefined && key <= query.after) continue;
      const silent = nowMs - held.storedAtMs > silentAfterMs;
      const { report } = held;
      if (query.build !== undefined && report.build !== query.build) continue;
      if (query.state === 'silent' ? !silent : query.state !== undefined && (silent || report.state !== query.state)) continue;
      matching.push({
        key,
        row: {
          service,
          machine,
          build: report.build,
          state: report.state,
          silent,
          error: report.error,
          bytes: report.bytes,
          total: report.total,
          peers: report.peers,
          reportedAt: new Date(held.storedAtMs).toISOString(),
        },
      });
    }
  }
  matching.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const page = matching.slice(0, query.limit);
  return { machines: page.map((m) => m.row), next: matching.length > query.limit ? page.at(-1)!.key : null };
}
