import { z } from 'zod';
import { fleetStatusJson, grants, machinePageJson } from '../../../api-contract/index.ts';
import { agentStates } from '../../../goalstate/index.ts';
import { FleetcastError } from '../../../errors/index.ts';
import type { ApiContext } from '../api-context.ts';
import { toServiceStatusJson } from '../deployment-json.ts';
import { errorJson } from '../error-json.ts';
import { maxPageSize, serviceName } from '../request-schemas.ts';
import { defineRoute, type Route } from '../route.ts';

const refused = { description: 'refused', schema: errorJson };

export const machinesQuery = z.strictObject({
  service: serviceName.optional().meta({ description: 'only machines of this service (required for tokens limited to services)' }),
  state: z.enum([...agentStates, 'silent']).optional().meta({ description: 'failed, silent (no recent report), running, downloading…' }),
  build: z.string().regex(/^b\d+$/).optional().meta({ description: 'only machines whose last report is about this build' }),
  cursor: z.string().min(1).max(200).optional().meta({ description: "the previous page's `next`" }),
  limit: z.coerce.number().int().min(1).max(maxPageSize).default(100),
});

/** The dashboard's wide views: every service at once, and the machines of a region. */
export function fleetRoutes({ services, deploys, fleet }: ApiContext): Route[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/status',
      summary: 'every service at once: its goal per region, where its machines stand, its lock and newest deployment (the fleet overview)',
      scope: 'read',
      action: 'read status',
      // A list (no `service`): a token limited to services sees those only, as GET /v1/services.
      responses: { 200: { description: 'every service visible to the token', schema: fleetStatusJson }, 503: refused },
      async handle({ principal }) {
        const allowed = principal?.services ?? null;
        const names = (await services.list()).map((s) => s.name).filter((name) => allowed === null || allowed.includes(name));
        const statuses = await Promise.all(names.map(async (name) => toServiceStatusJson(await deploys.status(name))));
        if (principal && grants(principal.scopes, 'deploy')) return { services: statuses };
        return { services: statuses.map((s) => ({ ...s, regions: s.regions.map((r) => ({ ...r, goal: r.goal && { ...r.goal, p2pKey: null } })) })) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/regions/:region/machines',
      summary: "a page of a region's machines from its status view, in name order, filtered by service, state (failed, silent…) and build",
      scope: 'read',
      action: 'list machines',
      service: ({ query }) => query.service ?? null,
      params: z.strictObject({ region: z.string().min(1).max(63) }),
      query: machinesQuery,
      responses: { 200: { description: 'a page of machines', schema: machinePageJson }, 400: refused, 404: refused, 503: refused },
      async handle({ params, query }) {
        if (!fleet?.hub.machines) throw new FleetcastError('NATS_UNAVAILABLE', 'this coordinator runs without NATS: it has no machine reports', {});
        const page = fleet.hub.machines(params.region, { service: query.service, state: query.state, build: query.build, after: query.cursor, limit: query.limit });
        return { region: params.region, ...page };
      },
    }),
  ];
}
