import type { ApiContext } from '../api-context.ts';
import { planWaves } from '../../deploys/index.ts';
import { auditChange } from '../audit-change.ts';
import { errorJson } from '../error-json.ts';
import { addServiceBody, removeServiceQuery, serviceParams, updateServiceBody } from '../request-schemas.ts';
import { defineRoute, type Route } from '../route.ts';
import { serviceInUse } from '../service-in-use.ts';
import { removedServiceJson, serviceJson, serviceListJson, toServiceJson } from '../service-json.ts';

const refused = { description: 'refused', schema: errorJson };

export function serviceRoutes({ services, deploys, regions }: ApiContext): Route[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/v1/services',
      summary: 'register a service',
      scope: 'admin',
      action: 'register services',
      audit: 'service-add',
      service: ({ body }) => body.name,
      body: addServiceBody,
      responses: { 201: { description: 'registered', schema: serviceJson }, 400: refused, 409: { description: 'the service exists', schema: errorJson } },
      async handle({ body, reply, principal }) {
        // Its own wave plan must name configured regions (the words are checked by the schema): refused now, not at its first deploy.
        if (body.wavePlan && regions) planWaves({ setting: 'all', configured: regions, servicePlan: { service: body.name, plan: body.wavePlan } });
        const service = await services.add(body);
        await auditChange(deploys, principal!, 'service-add', service.name, { repo: service.repo.replace(/\/\/[^\/@]*@/, '//***@'), branch: service.branch, buildCommand: service.buildCommand, artifactPath: service.artifactPath, wavePlan: service.wavePlan, autoRollback: service.autoRollback, ...(service.metricGate ? { metricGate: service.metricGate } : {}) });
        void reply.code(201);
        return toServiceJson(service);
      },
    }),
    defineRoute({
      method: 'PATCH',
      url: '/v1/services/:name',
      summary: 'change a service (only the fields given)',
      scope: 'admin',
      action: 'change services',
      audit: 'service-update',
      service: ({ params }) => params.name,
      // No Slack grant covers changing a service: relays acting for a person are refused.
      slackAction: undefined,
      params: serviceParams,
      body: updateServiceBody,
      responses: { 200: { description: 'the service as it is now', schema: serviceJson }, 400: refused, 404: refused },
      async handle({ params, body, principal }) {
        if (body.wavePlan && regions) planWaves({ setting: 'all', configured: regions, servicePlan: { service: params.name, plan: body.wavePlan } });
        const { service, changed } = await services.update(params.name, body);
        // Idempotent: a repeated request changes nothing and leaves no second audit row.
        if (changed.length > 0) {
          // Values of build settings are secrets: their names only.
          const shown = Object.fromEntries(changed.map((field) => [field, field === 'buildEnv' ? Object.keys(service.buildEnv).sort() : service[field as keyof typeof service]]));
          await auditChange(deploys, principal!, 'service-update', service.name, { changed, ...shown });
        }
        return toServiceJson(service);
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/v1/services/:name',
      summary: 'remove a service (its builds and deployments are kept); refused while machines run it unless force=true',
      scope: 'admin',
      action: 'remove services',
      audit: 'service-remove',
      service: ({ params }) => params.name,
      slackAction: undefined,
      params: serviceParams,
      query: removeServiceQuery,
      responses: {
        200: { description: 'removed (or removed already)', schema: removedServiceJson },
        400: refused,
        404: refused,
        409: { description: 'machines still run it (SERVICE_IN_USE)', schema: errorJson },
      },
      async handle({ params, query, principal }) {
        // Removed already: the same answer as the first time, nothing checked or audited again.
        if (await services.isRemoved(params.name)) return { name: params.name, removed: true as const, changed: false };
        let inUse: Error | null;
        try {
          inUse = serviceInUse(await deploys.status(params.name));
        } catch (err) {
          // The regions cannot be asked (NATS down): nobody can tell it is unused, but --force was asked for exactly that.
          if (!query.force) throw err;
          inUse = err as Error;
        }
        if (inUse !== null && !query.force) throw inUse;
        const changed = await services.remove(params.name, principal!.name);
        if (changed) await auditChange(deploys, principal!, 'service-remove', params.name, { force: query.force, ...(inUse ? { inUse: inUse.message } : {}) });
        return { name: params.name, removed: true as const, changed };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/services',
      summary: 'list services by name',
      scope: 'read',
      action: 'list services',
      responses: { 200: { description: 'every service', schema: serviceListJson } },
      async handle({ principal }) {
        const allowed = principal?.services ?? null;
        // A token limited to services sees those only.
        const visible = (await services.list()).filter((service) => allowed === null || allowed.includes(service.name));
        return { services: visible.map(toServiceJson) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/services/:name',
      summary: 'one service',
      scope: 'read',
      action: 'read services',
      service: ({ params }) => params.name,
      params: serviceParams,
      responses: { 200: { description: 'the service', schema: serviceJson }, 400: refused, 404: refused },
      async handle({ params }) {
        return toServiceJson(await services.get(params.name));
      },
    }),
  ];
}
