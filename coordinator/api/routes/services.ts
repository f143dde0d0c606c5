import type { ApiContext } from '../api-context.ts';
import { planWaves } from '../../deploys/index.ts';
import { auditChange } from '../audit-change.ts';
import { errorJson } from '../error-json.ts';
import { addServiceBody, serviceParams } from '../request-schemas.ts';
import { defineRoute, type Route } from '../route.ts';
import { serviceJson, serviceListJson, toServiceJson } from '../service-json.ts';

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
