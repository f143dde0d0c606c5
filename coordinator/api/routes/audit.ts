import { z } from 'zod';
import { auditPageJson, type AuditEntryJson } from '../../../api-contract/index.ts';
import { fromSqlTime } from '../../../entities/index.ts';
import { listAudit } from '../../deploys/index.ts';
import type { ApiContext } from '../api-context.ts';
import { errorJson } from '../error-json.ts';
import { maxPageSize, serviceName } from '../request-schemas.ts';
import { defineRoute, type Route } from '../route.ts';

const time = z.iso.datetime({ offset: true }).transform((text) => new Date(text)).meta({ description: 'ISO 8601, e.g. 2026-12-07T10:00:00Z' });

export const listAuditQuery = z.strictObject({
  service: serviceName.optional().meta({ description: 'only rows about this service' }),
  actor: z.string().min(1).max(200).optional().meta({ description: 'only rows of this actor (ci, slack:alice, webhook, unknown-token…)' }),
  action: z.string().min(1).max(32).optional(),
  result: z.enum(['ok', 'refused', 'error']).optional(),
  since: time.optional().meta({ description: 'at or after this time' }),
  until: time.optional().meta({ description: 'before this time' }),
  before: z.coerce.number().int().min(1).optional().meta({ description: "only rows older than this id: the previous page's `next`" }),
  limit: z.coerce.number().int().min(1).max(maxPageSize).default(100),
});

export function toAuditEntryJson(row: Record<string, unknown>): AuditEntryJson {
  let detail: Record<string, unknown>;
  try {
    detail = JSON.parse(String(row.detail)) as Record<string, unknown>;
  } catch {
    detail = { unparsed: String(row.detail) };
  }
  return {
    id: Number(row.id),
    at: fromSqlTime(row.at)!.toISOString(),
    actor: String(row.actor),
    action: String(row.action),
    target: String(row.target),
    result: String(row.result) as AuditEntryJson['result'],
    detail,
  };
}

/** GET /v1/audit: the audit log for admins, newest first, filtered and paged. */
export function auditRoutes({ db }: ApiContext): Route[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/audit',
      summary: 'the audit log, newest first: every change, refused requests and what the coordinator did by itself; filter by service, actor, action, result, time',
      scope: 'admin',
      action: 'read the audit log',
      service: ({ query }) => query.service ?? null,
      query: listAuditQuery,
      responses: { 200: { description: 'a page of audit entries', schema: auditPageJson }, 400: { description: 'refused', schema: errorJson } },
      async handle({ query }) {
        // One row more than asked says whether an older page exists.
        const rows = await listAudit(db, { ...query, target: query.service, beforeId: query.before, limit: query.limit + 1 });
        const page = rows.slice(0, query.limit).map(toAuditEntryJson);
        return { entries: page, next: rows.length > query.limit ? String(page.at(-1)!.id) : null };
      },
    }),
  ];
}
