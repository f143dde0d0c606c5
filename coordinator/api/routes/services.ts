import type { ApiContext } from '../api-context.ts';
import { errorJson } from '../error-json.ts';
import { addServiceBody, serviceParams } from '../request-schemas.ts';
import { defineRoute, type Route } from '../route.ts';
import { serviceJson, serviceListJson, toServiceJson } from '../service-json.ts';

const refused = { description: 'refused', schema: errorJson };

export function serviceRoutes({ services }: ApiContext): Route[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/v1/services',
      summary: 'register a service',
      scope: 'admin',
      action: 'register services',
      body: addServiceBody,
      responses: { 201: { description: 'registered', schema: serviceJson }, 400: refused, 409: { description: 'the service exists', schema: errorJson } },
      async handle({ body, reply }) {
        const service = await services.add(body);
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
      async handle() {
        return { services: (await services.list()).map(toServiceJson) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/services/:name',
      summary: 'one service',
      scope: 'read',
      action: 'read services',
      params: serviceParams,
      responses: { 200: { description: 'the service', schema: serviceJson }, 400: refused, 404: refused },
      async handle({ params }) {
        return toServiceJson(await services.get(params.name));
      },
    }),
  ];
}
