import type { Command } from 'commander';
import type { AuditEntryJson, AuditPageJson } from '../../api-contract/index.ts';
import { apiClient, clientCommand, wantsJson } from '../client-command.ts';
import { when } from '../format/build-text.ts';
import { table } from '../format/table.ts';
import { printResult } from '../output.ts';

interface AuditOptions {
  service?: string;
  actor?: string;
  action?: string;
  result?: string;
  since?: string;
  until?: string;
  limit?: string;
  jsonl?: boolean;
}

/** What a row says beyond who/what/where, in one short cell. */
function detailText(entry: AuditEntryJson): string {
  const { error, via, ...rest } = entry.detail as { error?: { code?: string }; via?: { token?: string } } & Record<string, unknown>;
  const parts = Object.entries(rest).map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  if (via?.token) parts.unshift(`via ${via.token}`);
  if (error?.code) parts.unshift(error.code);
  const text = parts.join(' ');
  return text.length > 100 ? `${text.slice(0, 99)}…` : text;
}

export function auditCommand(): Command {
  const command = clientCommand('audit', 'the audit log, newest first: every change, refused requests, what the coordinator did by itself (admin token)')
    .option('--service <name>', 'only rows about this service')
    .option('--actor <name>', 'only rows of this actor (a token name, slack:alice, webhook, unknown-token…)')
    .option('--action <action>', 'only this action (build, cancel, replicate, service-add, deploy, rollback, lock, unlock, request…)')
    .option('--result <result>', 'ok, refused or error')
    .option('--since <time>', 'at or after this ISO 8601 time, e.g. 2026-12-07T00:00:00Z')
    .option('--until <time>', 'before this ISO 8601 time')
    .option('--limit <n>', 'at most this many rows (default 100, at most 500; --jsonl reads every page)')
    .option('--jsonl', 'export for auditors: every matching row, one JSON object per line, oldest page last')
    .action(async (options: AuditOptions) => {
      const client = apiClient(command);
      const query = new URLSearchParams();
      for (const key of ['service', 'actor', 'action', 'result', 'since', 'until', 'limit'] as const) {
        if (options[key] !== undefined) query.set(key, options[key]);
      }
      if (options.jsonl) {
        // Page by page, so an export of years of history never sits in memory at once.
        for (let before: string | null = null; ; ) {
          if (before !== null) query.set('before', before);
          const page: AuditPageJson = await client.get<AuditPageJson>(`/v1/audit?${query}`);
          for (const entry of page.entries) process.stdout.write(JSON.stringify(entry) + '\n');
          if (page.next === null) return;
          before = page.next;
        }
      }
      const page = await client.get<AuditPageJson>(`/v1/audit${query.size > 0 ? `?${query}` : ''}`);
      printResult(wantsJson(command), page, () =>
        page.entries.length === 0
          ? 'no audit rows match'
          : table(
              ['ID', 'AT', 'ACTOR', 'ACTION', 'TARGET', 'RESULT', 'DETAIL'],
              page.entries.map((e) => [String(e.id), when(e.at), e.actor, e.action, e.target, e.result, detailText(e)]),
            ) + (page.next === null ? '' : `\n(older rows: --jsonl exports every page)`),
      );
    });
  return command;
}
