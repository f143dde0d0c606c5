import type { FastifyReply, FastifyRequest } from 'fastify';
import { controlActions, type DeployOutcome } from '../../deploys/index.ts';
import type { ApiContext } from '../api-context.ts';
import { actorOf } from '../auth/index.ts';
import {
  deploymentJson,
  deploymentListJson,
  deploymentProgressJson,
  lockJson,
  serviceStatusJson,
  toDeploymentJson,
  toDeploymentProgressJson,
  toLockJson,
  toServiceStatusJson,
} from '../deployment-json.ts';
import { deployPreviewJson, toDeployPreviewJson } from '../deploy-preview-json.ts';
import { errorJson } from '../error-json.ts';
import { statusForReader } from '../status-for-reader.ts';
import { parseInput } from '../parse-input.ts';
import { controlBody, deployBody, deploymentParams, idempotencyKeyHeader, listDeploymentsQuery, lockBody, rollbackBody, serviceParams } from '../request-schemas.ts';
import { defineRoute, type Route } from '../route.ts';
import { requireAdmin } from '../require-admin.ts';

const refused = { description: 'refused', schema: errorJson };

const controlSummaries = {
  pause: 'pause a rollout: the next wave is not written until it is resumed or promoted (the wave written is still judged, and still fails)',
  resume: 'resume a paused rollout: the next wave is written once the current one has converged',
  promote: "skip the current gate: the wave being judged (or soaking) counts as converged and the next wave is written at once",
  abort: 'stop a rollout: the later waves are never written, the regions already written go back to the build they ran before, and the service is locked',
} as const;
const replayedReply = { description: 'replayed: an earlier request with the same Idempotency-Key made this deployment (replayed: true)', schema: deploymentJson };

function idempotencyKey(request: FastifyRequest): string | undefined {
  return parseInput(idempotencyKeyHeader, request.headers['idempotency-key'], 'header');
}

/** 201 for a new deployment, 200 for the one a retry with the same Idempotency-Key gets back. */
function deploymentReply(deployment: DeployOutcome, reply: FastifyReply) {
  void reply.code(deployment.replayed ? 200 : 201);
  return toDeploymentJson(deployment);
}

export function deployRoutes({ deploys, queue }: ApiContext): Route[] {
  const serviceOfDeployment = async ({ params }: { params: { id: string } }) => (await deploys.get(params.id)).service;
  const serviceNamed = ({ params }: { params: { name: string } }) => params.name;
  return [
    defineRoute({
      method: 'POST',
      url: '/v1/deployments',
      summary: 'deploy a build: set the goal of its service, wave by wave (or at once in the regions named); send Idempotency-Key to make retries safe',
      scope: 'deploy',
      action: 'deploy',
      audit: 'deploy',
      slackAction: 'deploy',
      service: async ({ body }) => (await queue.get(body.build)).service,
      body: deployBody,
      responses: {
        200: replayedReply,
        201: { description: 'the first wave is written (status ROLLING until every wave has converged)', schema: deploymentJson },
        400: refused,
        404: refused,
        409: { description: 'NOT_DEPLOYABLE (names the regions missing) or GOAL_CONFLICT', schema: errorJson },
        412: { description: "CHECK_FAILED: the service's pre-deploy check failed (its output in the message and details)", schema: errorJson },
        423: { description: 'LOCKED: by whom, why, since; FROZEN: the freeze windows on, until when', schema: errorJson },
        503: { description: 'NATS_UNAVAILABLE or DATABASE_UNAVAILABLE', schema: errorJson },
      },
      async handle({ body, principal, request, reply }) {
        if (body.overrideFreeze !== undefined) requireAdmin(principal!, 'deploy inside a freeze window (overrideFreeze)');
        const deployment = await deploys.deploy(body.build, {
          regions: body.regions,
          waves: body.waves,
          reason: body.reason,
          overrideFreeze: body.overrideFreeze,
          ...actorOf(principal!),
          idempotencyKey: idempotencyKey(request),
        });
        return deploymentReply(deployment, reply);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/deployments/preview',
      summary:
        'what a deploy with this body would do, changing nothing (fleetcast deploy --dry-run): the commits shipped or removed per region, what each region runs, the waves, machines already holding the build, and every refusal the deploy would get',
      // The deploy's own scope and grant: a caller who may not deploy is refused (FORBIDDEN) as the deploy would refuse them. Not audited: nothing changes.
      scope: 'deploy',
      action: 'deploy',
      slackAction: 'deploy',
      service: async ({ body }) => (await queue.get(body.build)).service,
      body: deployBody,
      responses: {
        200: { description: 'the preview; `refusals` empty when the deploy would go ahead', schema: deployPreviewJson },
        400: refused,
        404: refused,
        503: { description: 'NATS_UNAVAILABLE or DATABASE_UNAVAILABLE', schema: errorJson },
      },
      async handle({ body }) {
        return toDeployPreviewJson(await deploys.previews.deploy(body.build, { regions: body.regions, waves: body.waves }));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/deployments',
      summary: 'deployments and rollbacks, newest first',
      scope: 'read',
      action: 'list deployments',
      service: ({ query }) => query.service ?? null,
      query: listDeploymentsQuery,
      responses: { 200: { description: 'deployments', schema: deploymentListJson }, 400: refused },
      async handle({ query }) {
        return { deployments: (await deploys.list(query)).map(toDeploymentJson) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/deployments/:id',
      summary: 'one deployment, with its waves',
      scope: 'read',
      action: 'read deployments',
      service: serviceOfDeployment,
      params: deploymentParams,
      responses: { 200: { description: 'the deployment', schema: deploymentJson }, 400: refused, 404: refused },
      async handle({ params }) {
        return toDeploymentJson(await deploys.get(params.id));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/deployments/:id/progress',
      summary: "a deployment and, per region, where the machines stand against its build (the events stream sends the same on every change)",
      scope: 'read',
      action: 'read deployments',
      service: serviceOfDeployment,
      params: deploymentParams,
      responses: { 200: { description: 'progress', schema: deploymentProgressJson }, 400: refused, 404: refused },
      async handle({ params }) {
        return toDeploymentProgressJson(await deploys.progress(params.id));
      },
    }),
    ...controlActions.map((action) =>
      defineRoute({
        method: 'POST',
        url: `/v1/deployments/:id/${action}`,
        summary: `${controlSummaries[action]}; idempotent: an action already in effect gives the deployment back with replayed: true`,
        scope: 'deploy',
        action: `${action} rollouts`,
        audit: action,
        // The same grant as /deploy (the Slack buttons); a token limited to services controls only theirs.
        slackAction: 'deploy',
        service: serviceOfDeployment,
        params: deploymentParams,
        body: controlBody,
        responses: {
          200: { description: 'the deployment after the change (replayed: true when it was already in effect)', schema: deploymentJson },
          400: refused,
          404: refused,
          409: { description: 'CONFLICT: the deployment is not in progress, or moved on meanwhile', schema: errorJson },
          503: refused,
        },
        async handle({ params, body, principal }) {
          return toDeploymentJson(await deploys.control(action, params.id, { reason: body.reason, wave: body.wave, ...actorOf(principal!) }));
        },
      }),
    ),
    defineRoute({
      method: 'POST',
      url: '/v1/services/:name/rollback',
      summary: 'roll a service back to the build deployed before (or `to`) and lock it; works while SQL is down',
      scope: 'deploy',
      action: 'roll back',
      audit: 'rollback',
      slackAction: 'rollback',
      service: serviceNamed,
      params: serviceParams,
      body: rollbackBody,
      responses: {
        200: replayedReply,
        201: { description: 'the goal is written; the service is locked', schema: deploymentJson },
        400: refused,
        404: { description: 'no such service, or nothing to roll back to', schema: errorJson },
        409: refused,
        503: refused,
      },
      async handle({ params, body, principal, request, reply }) {
        const deployment = await deploys.rollback(params.name, { to: body.to, regions: body.regions, reason: body.reason, ...actorOf(principal!), idempotencyKey: idempotencyKey(request) });
        return deploymentReply(deployment, reply);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/services/:name/rollback/preview',
      summary:
        'what a rollback with this body would do, changing nothing (fleetcast rollback --dry-run): the build it returns to, the commits removed, what each region runs, machines already holding that build in cache (no transfer), and any refusal',
      scope: 'deploy',
      action: 'roll back',
      slackAction: 'rollback',
      service: serviceNamed,
      params: serviceParams,
      body: rollbackBody,
      responses: {
        200: { description: 'the preview; `refusals` empty when the rollback would go ahead', schema: deployPreviewJson },
        400: refused,
        404: { description: 'no such service, or nothing to roll back to', schema: errorJson },
        503: refused,
      },
      async handle({ params, body }) {
        return toDeployPreviewJson(await deploys.previews.rollback(params.name, { to: body.to, regions: body.regions }));
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/services/:name/lock',
      summary: 'lock a service: deploys are refused (LOCKED) until it is unlocked',
      scope: 'deploy',
      action: 'lock services',
      audit: 'lock',
      slackAction: 'lock',
      service: serviceNamed,
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
      slackAction: 'lock',
      service: serviceNamed,
      params: serviceParams,
      responses: { 200: { description: 'the lock that was removed', schema: lockJson }, 404: { description: 'no such service, or it is not locked', schema: errorJson } },
      async handle({ params, principal }) {
        return toLockJson(await deploys.unlock(params.name, actorOf(principal!)));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/services/:name/status',
      summary: 'the goal of a service in each region (read from the hub), where its machines stand against it, its lock and newest deployment',
      scope: 'read',
      action: 'read status',
      service: serviceNamed,
      params: serviceParams,
      responses: { 200: { description: 'status', schema: serviceStatusJson }, 404: refused, 503: refused },
      async handle({ params, principal }) {
        return statusForReader(toServiceStatusJson(await deploys.status(params.name)), principal);
      },
    }),
  ];
}
