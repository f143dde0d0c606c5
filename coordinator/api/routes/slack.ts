import { slackRequestBody, slackRequestSeenJson, type SlackRequestSeenJson } from '../../../api-contract/index.ts';
import { FleetcastError } from '../../../errors/index.ts';
import type { ApiContext } from '../api-context.ts';
import { errorJson } from '../error-json.ts';
import { defineRoute, type Route } from '../route.ts';
import { SlackRequestLedger } from '../slack-request-ledger.ts';

const refused = { description: 'refused', schema: errorJson };

/** What the bot replicas share: the signed Slack requests they have seen (replay protection). */
export function slackRoutes(ctx: ApiContext): Route[] {
  const ledger = new SlackRequestLedger(ctx.db);
  return [
    defineRoute({
      method: 'POST',
      url: '/v1/slack/requests',
      summary: 'a bot replica reports a signed Slack request it received; answers whether it is the first time (false: a replay)',
      // The bot's own token (one that may act for people), not a person's: no service, no Slack grant.
      scope: 'read',
      action: 'report Slack requests',
      body: slackRequestBody,
      responses: { 200: { description: 'first time or not', schema: slackRequestSeenJson }, 400: refused, 403: refused },
      async handle({ body, principal }) {
        const caller = principal!;
        if (!caller.actAs || caller.onBehalf) {
          throw new FleetcastError('FORBIDDEN', `token ${caller.name} may not report Slack requests: only the bot's token (one marked "actAs": true in the permissions file) may`);
        }
        const firstTime = await ledger.firstTime(body.signature, body.timestamp);
        // Only a replay is a change worth the audit log: every Slack request would drown it.
        if (!firstTime) await ctx.deploys.record({ at: new Date(), actor: caller.name, action: 'slack-request', target: 'slack', result: 'refused', detail: { timestamp: body.timestamp, error: 'replayed' } });
        return { firstTime } satisfies SlackRequestSeenJson;
      },
    }),
  ];
}
