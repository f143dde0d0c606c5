import type { ApiContext } from '../api-context.ts';
import { actorOf } from '../auth/index.ts';
import { deploymentJson, deploymentListJson, lockJson, serviceStatusJson, toDeploymentJson, toLockJson, toServiceStatusJson } from '../deployment-json.ts';
import { errorJson } from '../error-json.ts';
import { deployBody, listDeploymentsQuery, lockBody, rollbackBody, serviceParams } from '../request-schemas.ts';
import { defineRoute, type Route } from '../route.ts';

const refused = { description: 'refused', schema: errorJson };

export function deployRoutes({ deploys }: ApiContext): Route[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/v1/deployments',
      summary: 'deploy a build: set the goal of its service in every region (or those named)',
      scope: 'deploy',
      action: 'deploy',
      audit: 'deploy',
      body: deployBody,
      responses: {
        201: { description: 'the goal is written in every region', schema: deploymentJson },
        400: refused,
        404: refused,
        409: { description: 'NOT_DEPLOYABLE (names the regions missing) or GOAL_CONFLICT', schema: errorJson },
        423: { description: 'LOCKED: by whom, why, since', schema: errorJson },
        503: { description: 'NATS_UNAVAILABLE or DATABASE_UNAVAILABLE', schema: errorJson },
      },
      async handle({ body, principal, reply }) {
        const deployment = await deploys.deploy(body.build, { regions: body.regions, reason: body.reason, ...actorOf(principal!) });
        void reply.code(201);
        return toDeploymentJson(deployment);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/deployments',
      summary: 'deployments and rollbacks, newest first',
      scope: 'read',
      action: 'list deployments',
      query: listDeploymentsQuery,
      responses: { 200: { description: 'deployments', schema: deploymentListJson }, 400: refused },
      async handle({ query }) {
        return { deployments: (await deploys.list(query)).map(toDeploymentJson) };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/services/:name/rollback',
      summary: 'roll a service back to the build deployed before (or `to`) and lock it; works while SQL is down',
      scope: 'deploy',
      action: 'roll back',
      audit: 'rollback',
      params: serviceParams,
      body: rollbackBody,
      responses: {
        201: { description: 'the goal is written; the service is locked', schema: deploymentJson },
        400: refused,
        404: { description: 'no such service, or nothing to roll back to', schema: errorJson },
        409: refused,
        503: refused,
      },
      async handle({ params, body, principal, reply }) {
        const deployment = await deploys.rollback(params.name, { to: body.to, regions: body.regions, reason: body.reason, ...actorOf(principal!) });
        void reply.code(201);
        return toDeploymentJson(deployment);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/services/:name/lock',
      summary: 'lock a service: deploys are refused (LOCKED) until it is unlocked',
      scope: 'deploy',
      action: 'lock services',
      audit: 'lock',
      params: serviceParams,
      body: lockBody,
      responses: { 201: { description: 'the lock', schema: lockJson }, 400: refused, 404: refused, 409: { description: 'already locked', schema: errorJson } },
      async handle({ params, body, principal, reply }) {
        const lock = await deploys.lock(params.name, { reason: body.reason, ...actorOf(principal!) });
        void reply.code(201);
        return toLockJson(lock);
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/v1/services/:name/lock',
      summary: 'unlock a service',
      scope: 'deploy',
      action: 'unlock services',
      audit: 'unlock',
      params: serviceParams,
      responses: { 200: { description: 'the lock that was removed', schema: lockJson }, 404: { description: 'no such service, or it is not locked', schema: errorJson } },
      async handle({ params, principal }) {
        return toLockJson(await deploys.unlock(params.name, actorOf(principal!)));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/services/:name/status',
      summary: 'the goal of a service in each region (read from the hub) and its lock',
      scope: 'read',
      action: 'read status',
      params: serviceParams,
      responses: { 200: { description: 'status', schema: serviceStatusJson }, 404: refused, 503: refused },
      async handle({ params }) {
        return toServiceStatusJson(await deploys.status(params.name));
      },
    }),
  ];
}
