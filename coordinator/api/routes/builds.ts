import type { FleetcastError } from '../../../errors/index.ts';
import { formatBuildId, isFinal, parseBuildId } from '../../../queue/index.ts';
import { requireScope } from '../auth/index.ts';
import type { ApiContext } from '../api-context.ts';
import { buildJson, buildPageJson, toBuildJson } from '../build-json.ts';
import { auditChange } from '../audit-change.ts';
import { errorJson } from '../error-json.ts';
import { buildParams, listBuildsQuery, logQuery, replicateQuery, submitBuildBody } from '../request-schemas.ts';
import { defineRoute, type Route } from '../route.ts';

const refused = { description: 'refused', schema: errorJson };

export function buildRoutes({ queue, logs, replication, deploys }: ApiContext): Route[] {
  const serviceOfBuild = async ({ params }: { params: { id: string } }) => (await queue.get(params.id)).service;
  return [
    defineRoute({
      method: 'POST',
      url: '/v1/builds',
      summary: 'queue a build of a commit (or return the equal build already QUEUED or RUNNING)',
      scope: 'build',
      action: 'queue builds',
      audit: 'build',
      slackAction: 'build',
      service: ({ body }) => body.service,
      body: submitBuildBody,
      responses: {
        201: { description: 'queued', schema: buildJson },
        200: { description: 'the same commit was already QUEUED or RUNNING: that build', schema: buildJson },
        400: refused,
        404: { description: 'unknown service', schema: errorJson },
      },
      async handle({ body, principal, reply }) {
        const { overrideBranch, ...request } = body;
        if (!overrideBranch) {
          const { build, created } = await queue.submit({ ...request, requestedBy: principal!.name });
          if (created) await auditChange(deploys, principal!, 'build', build.service, { build: formatBuildId(build.id), commit: build.commit, force: request.force });
          void reply.code(created ? 201 : 200);
          return toBuildJson(build, await replication.status.forBuild(build));
        }
        try {
          requireScope(principal!, 'admin', "build a commit off the service's branch");
        } catch (err) {
          const { code, message } = err as FleetcastError;
          const via = principal!.onBehalf ? { onBehalf: principal!.onBehalf } : {};
          await deploys.record({ at: new Date(), actor: principal!.name, action: 'build-override-branch', target: request.service, result: 'refused', detail: { commit: request.commit, ...via, error: { code, message } } });
          throw err;
        }
        const { build } = await queue.submit({ ...request, requestedBy: principal!.name, branchOverrideBy: principal!.name });
        const detail = { commit: request.commit, build: formatBuildId(build.id), ...(principal!.onBehalf ? { onBehalf: principal!.onBehalf } : {}) };
        await deploys.record({ at: new Date(), actor: principal!.name, action: 'build-override-branch', target: request.service, result: 'ok', detail });
        void reply.code(201);
        return toBuildJson(build, await replication.status.forBuild(build));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/builds',
      summary: 'build history, newest first, a page at a time',
      scope: 'read',
      action: 'list builds',
      service: ({ query }) => query.service ?? null,
      query: listBuildsQuery,
      responses: { 200: { description: 'a page of builds', schema: buildPageJson }, 400: refused },
      async handle({ query }) {
        const { service, status, limit } = query;
        const beforeId = query.before === undefined ? undefined : parseBuildId(query.before);
        // One row more than asked says whether an older page exists.
        const rows = await queue.list({ service, status, beforeId, limit: limit + 1 });
        const page = rows.slice(0, limit);
        const copies = await replication.status.forBuilds(page);
        return { builds: page.map((build) => toBuildJson(build, copies.get(build.id))), next: rows.length > limit ? formatBuildId(page.at(-1)!.id) : null };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/builds/:id',
      summary: 'one build, with its copy in each region and whether it is deployable',
      scope: 'read',
      action: 'read builds',
      service: serviceOfBuild,
      params: buildParams,
      responses: { 200: { description: 'the build', schema: buildJson }, 400: refused, 404: refused },
      async handle({ params }) {
        const build = await queue.get(params.id);
        return toBuildJson(build, await replication.status.forBuild(build));
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/builds/:id/replicate',
      summary: 'copy a build again into the regions where its copy FAILED (all, or ?region=)',
      scope: 'build',
      action: 'retry replication',
      audit: 'replicate',
      service: serviceOfBuild,
      params: buildParams,
      query: replicateQuery,
      responses: { 200: { description: 'the build, with `retried` copies back in the queue', schema: buildJson }, 400: refused, 404: refused },
      async handle({ params, query, principal }) {
        const build = await queue.get(params.id);
        const retried = await replication.retry(build.id, query.region);
        if (retried > 0) await auditChange(deploys, principal!, 'replicate', build.service, { build: formatBuildId(build.id), region: query.region ?? null, retried });
        return { ...toBuildJson(build, await replication.status.forBuild(build)), retried };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/builds/:id/cancel',
      summary: 'cancel a QUEUED or RUNNING build (it ends FAILED, cancelledBy set)',
      scope: 'build',
      action: 'cancel builds',
      audit: 'cancel',
      slackAction: 'build',
      service: serviceOfBuild,
      params: buildParams,
      responses: {
        200: { description: 'the cancelled build', schema: buildJson },
        404: refused,
        409: { description: 'the build is already final (FINAL_STATE)', schema: errorJson },
      },
      async handle({ params, principal }) {
        const build = await queue.cancel(params.id, principal!.name);
        await auditChange(deploys, principal!, 'cancel', build.service, { build: formatBuildId(build.id) });
        return toBuildJson(build, await replication.status.forBuild(build));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/builds/:id/log',
      summary: 'a chunk of the build log from a byte offset (scope build: logs may show what a build saw)',
      scope: 'build',
      action: 'read build logs',
      service: serviceOfBuild,
      params: buildParams,
      query: logQuery,
      responses: {
        200: {
          description:
            'log text from the offset (possibly empty). Read again from x-fleetcast-log-offset until x-fleetcast-log-complete is true ' +
            '(the build is final and nothing is left); or subscribe to the log on GET /v1/events instead of polling',
          contentType: 'text/plain; charset=utf-8',
          headers: {
            'x-fleetcast-log-offset': 'the offset to read from next',
            'x-fleetcast-log-complete': 'true once the build is final and the log is read to its end',
          },
        },
        404: refused,
      },
      async handle({ params, query, reply }) {
        // The build is read before the log: if it was final then, a read returning nothing is the end.
        const build = await queue.get(params.id);
        const chunk = await logs.read(build, query.offset);
        void reply
          .type('text/plain; charset=utf-8')
          .header('x-fleetcast-log-offset', String(chunk.nextOffset))
          .header('x-fleetcast-log-complete', String(isFinal(build.status) && chunk.text === ''));
        return chunk.text;
      },
    }),
  ];
}
