import { z } from 'zod';
import { deliveryJson, freezeJson, freezeListJson, type CheckRunJson, type DeliveryJson, type FreezeJson } from '../../../api-contract/index.ts';
import { FleetcastError } from '../../../errors/index.ts';
import { formatBuildId } from '../../../queue/index.ts';
import { activeUntil, selectCheckRuns, type CheckRun, type FreezeWindow } from '../../delivery/index.ts';
import type { ApiContext } from '../api-context.ts';
import { auditChange } from '../audit-change.ts';
import { errorJson } from '../error-json.ts';
import { serviceName, serviceParams } from '../request-schemas.ts';
import { defineRoute, type Route } from '../route.ts';

const refused = { description: 'refused', schema: errorJson };
const time = z.iso.datetime({ offset: true }).transform((text) => new Date(text)).meta({ description: 'ISO 8601, e.g. 2026-12-24T18:00:00+01:00' });

export const freezeBody = z
  .strictObject({
    service: serviceName.optional().meta({ description: '@defaultValue every service' }),
    reason: z.string().trim().min(1, 'say why deploys are frozen').max(2000),
    from: time.optional().meta({ description: 'one-off freeze: from (@defaultValue now)' }),
    until: time.optional().meta({ description: 'one-off freeze: until' }),
    weekly: z.string().max(64).optional().meta({ description: 'recurring freeze, e.g. "Fri 16:00-Mon 08:00"' }),
    timeZone: z.string().max(64).optional().meta({ description: 'of the weekly window; an IANA name (@defaultValue UTC)' }),
  })
  .meta({ id: 'FreezeAdd' });
const freezeParams = z.object({ id: z.string().regex(/^f?\d{1,16}$/, 'freeze ids look like f3') });
const freezeQuery = z.strictObject({ service: serviceName.optional().meta({ description: "this service's freezes and the global ones" }) });
const continuousDeployBody = z
  .strictObject({ enabled: z.boolean(), branch: z.string().min(1).max(200).optional().meta({ description: "one of the service's branches; @defaultValue its first" }) })
  .meta({ id: 'ContinuousDeploy' });
const checkBody = z
  .strictObject({
    command: z.string().trim().min(1).max(4000).optional().meta({ description: 'run by the coordinator in the build sandbox; exit 0 passes' }),
    url: z.url({ protocol: /^https?$/ }).optional().meta({ description: 'must answer 2xx' }),
    timeoutMs: z.number().int().min(100).max(3_600_000).optional().meta({ description: '@defaultValue FLEETCAST_CHECK_TIMEOUT' }),
  })
  .refine((body) => (body.command === undefined) !== (body.url === undefined), 'give a command or a url (one of them)')
  .meta({ id: 'PredeployCheck' });

function toFreezeJson(window: FreezeWindow, now: Date): FreezeJson {
  const iso = (at: Date | null) => at?.toISOString() ?? null;
  return { ...window, startsAt: iso(window.startsAt), endsAt: iso(window.endsAt), createdAt: window.createdAt.toISOString(), activeUntil: iso(activeUntil(window, now)) };
}

function toCheckRunJson(run: CheckRun): CheckRunJson {
  return { id: run.id, build: formatBuildId(run.buildId), deployment: run.deployment, kind: run.kind, target: run.target, ok: run.ok, output: run.output, durationMs: run.durationMs, ranBy: run.ranBy, ranAt: run.ranAt.toISOString() };
}

/** Freeze windows, and each service's continuous deploy and pre-deploy check (issue 23). */
export function deliveryRoutes({ delivery, deploys, db }: ApiContext): Route[] {
  const parts = () => {
    if (!delivery) throw new FleetcastError('NOT_FOUND', 'this coordinator has no delivery loop (freezes, continuous deploy, checks)');
    return delivery;
  };
  const now = () => parts().freezes.now();
  const deliveryOf = async (service: string): Promise<DeliveryJson> => {
    const { settings, freezes } = parts();
    const current = await settings.get(service);
    const at = now();
    return {
      service,
      continuousDeploy: { ...current.continuousDeploy, build: current.continuousDeploy.buildId === null ? null : formatBuildId(current.continuousDeploy.buildId), at: current.continuousDeploy.at?.toISOString() ?? null },
      check: current.check,
      checks: (await selectCheckRuns(db, { service, limit: 5 })).map(toCheckRunJson),
      freezes: (await freezes.list(service)).map((w) => toFreezeJson(w, at)),
    };
  };
  return [
    defineRoute({
      method: 'POST',
      url: '/v1/freezes',
      summary: 'freeze deploys of a service (or of every service) until a time, or weekly in a time zone; rollbacks are never frozen',
      scope: 'deploy',
      action: 'freeze deploys',
      audit: 'freeze-add',
      slackAction: 'lock',
      service: ({ body }) => body.service ?? null,
      body: freezeBody,
      responses: { 201: { description: 'the freeze window', schema: freezeJson }, 400: refused, 403: refused, 404: refused },
      async handle({ body, principal, reply }) {
        const window = await parts().freezes.add({ ...body, service: body.service ?? null, by: principal!.name });
        await auditChange(deploys, principal!, 'freeze-add', window.service ?? '*', { freeze: window.id, kind: window.kind, from: window.startsAt, until: window.endsAt, weekly: window.weekly, timeZone: window.timeZone, reason: window.reason });
        void reply.code(201);
        return toFreezeJson(window, now());
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/freezes',
      summary: 'freeze windows not removed and not over, with whether each is on now',
      scope: 'read',
      action: 'list freezes',
      query: freezeQuery,
      responses: { 200: { description: 'freeze windows', schema: freezeListJson }, 400: refused },
      async handle({ query }) {
        const at = now();
        return { freezes: (await parts().freezes.list(query.service ?? null)).map((w) => toFreezeJson(w, at)) };
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/v1/freezes/:id',
      summary: 'remove a freeze window (kept in SQL, marked removed)',
      scope: 'deploy',
      action: 'remove freezes',
      audit: 'freeze-remove',
      slackAction: 'lock',
      service: async ({ params }) => (await parts().freezes.list(null)).find((w) => w.id === `f${params.id.replace(/^f/, '')}`)?.service ?? null,
      params: freezeParams,
      responses: { 200: { description: 'the freeze removed', schema: freezeJson }, 400: refused, 404: refused },
      async handle({ params, principal }) {
        const window = await parts().freezes.remove(params.id, principal!.name);
        await auditChange(deploys, principal!, 'freeze-remove', window.service ?? '*', { freeze: window.id, reason: window.reason });
        return toFreezeJson(window, now());
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/services/:name/delivery',
      summary: "a service's continuous deploy (what it last did and why), its pre-deploy check and latest runs, the freezes that apply to it",
      scope: 'read',
      action: 'read services',
      service: ({ params }) => params.name,
      params: serviceParams,
      responses: { 200: { description: 'the delivery loop of the service', schema: deliveryJson }, 404: refused },
      async handle({ params }) {
        return deliveryOf(params.name);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/services/:name/continuous-deploy',
      summary: "turn continuous deploy on or off: every SUCCEEDED, deployable build of the branch is deployed with the service's wave plan unless locked, frozen, a deploy is in progress, or the check fails",
      scope: 'admin',
      action: 'change services',
      audit: 'continuous-deploy-set',
      slackAction: 'deploy',
      service: ({ params }) => params.name,
      params: serviceParams,
      body: continuousDeployBody,
      responses: { 200: { description: 'the delivery loop of the service', schema: deliveryJson }, 400: refused, 404: refused },
      async handle({ params, body, principal }) {
        const changed = await parts().settings.setContinuousDeploy(params.name, body.enabled, body.branch, principal!.name);
        await auditChange(deploys, principal!, 'continuous-deploy-set', params.name, { enabled: body.enabled, branch: changed.continuousDeploy.branch });
        return deliveryOf(params.name);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/services/:name/check',
      summary: 'set the pre-deploy check: a command (run in the build sandbox, exit 0 passes) or a URL (2xx passes), run before every deploy',
      scope: 'admin',
      action: 'change services',
      audit: 'check-set',
      slackAction: 'deploy',
      service: ({ params }) => params.name,
      params: serviceParams,
      body: checkBody,
      responses: { 200: { description: 'the delivery loop of the service', schema: deliveryJson }, 400: refused, 404: refused },
      async handle({ params, body, principal }) {
        await parts().settings.setCheck(params.name, body, principal!.name);
        await auditChange(deploys, principal!, 'check-set', params.name, { command: body.command ?? null, url: body.url ?? null, timeoutMs: body.timeoutMs ?? null });
        return deliveryOf(params.name);
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/v1/services/:name/check',
      summary: 'remove the pre-deploy check',
      scope: 'admin',
      action: 'change services',
      audit: 'check-set',
      slackAction: 'deploy',
      service: ({ params }) => params.name,
      params: serviceParams,
      responses: { 200: { description: 'the delivery loop of the service', schema: deliveryJson }, 404: refused },
      async handle({ params, principal }) {
        await parts().settings.setCheck(params.name, {}, principal!.name);
        await auditChange(deploys, principal!, 'check-set', params.name, { command: null, url: null });
        return deliveryOf(params.name);
      },
    }),
  ];
}
