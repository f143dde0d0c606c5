import { z } from 'zod';
import { announcedActions, announcementPageJson } from '../../../api-contract/index.ts';
import { selectAuditAfter, selectNewestAuditId } from '../../deploys/index.ts';
import type { ApiContext } from '../api-context.ts';
import { errorJson } from '../error-json.ts';
import { defineRoute, type Route } from '../route.ts';
import { toAuditEntryJson } from './audit.ts';

const announcementsQuery = z.strictObject({
  after: z.coerce.number().int().min(0).optional().meta({ description: "the previous page's `next`; absent: no entries, just the cursor to start from (now)" }),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/**
 * GET /v1/announcements: the feed the Slack bot follows to announce every deploy, rollback,
 * halt, lock, freeze and continuous-deploy decision in the service's channel, whoever made it.
 * A token limited to services sees theirs only (the rows of others are passed over).
 */
export function announcementRoutes({ db }: ApiContext): Route[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/announcements',
      summary: "what is announced in Slack: deploys, rollbacks, rollout controls, locks, freezes and continuous deploy's decisions, oldest first after a cursor",
      scope: 'read',
      action: 'read announcements',
      query: announcementsQuery,
      responses: { 200: { description: 'a page of announcements', schema: announcementPageJson }, 400: { description: 'refused', schema: errorJson } },
      async handle({ query, principal }) {
        if (query.after === undefined) return { entries: [], next: await selectNewestAuditId(db) };
        const rows = await selectAuditAfter(db, query.after, announcedActions, query.limit);
        const next = rows.length > 0 ? Number(rows.at(-1)!.id) : query.after;
        const allowed = principal?.services ?? null;
        const entries = rows.map(toAuditEntryJson).filter((entry) => allowed === null || allowed.includes(entry.target));
        return { entries, next };
      },
    }),
  ];
}
