import { z } from 'zod';
import { sessionJson, type SessionJson } from '../../../api-contract/index.ts';
import type { ApiContext } from '../api-context.ts';
import { auditChange } from '../audit-change.ts';
import { isFleetcastError } from '../../../errors/index.ts';
import { sessionCookie, sessionIdOf, tokenSha256, type Principal, type RefusalAudit, type SessionStore } from '../auth/index.ts';
import { errorJson } from '../error-json.ts';
import { defineRoute, type Route } from '../route.ts';
import type { FastifyRequest } from 'fastify';

const signInBody = z.strictObject({ token: z.string().min(1).max(500).meta({ description: 'an API token, exchanged once for the session cookie' }) });

function sessionReply(principal: Principal, csrf: string | null): SessionJson {
  return { name: principal.name, scopes: [...principal.scopes], services: principal.services === null ? null : [...principal.services], csrf };
}

/** HttpOnly: no script reads it; SameSite=Strict: no other site's page sends it; Secure when the API speaks TLS. */
function cookie(request: FastifyRequest, value: string, maxAgeS: number): string {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  return `${sessionCookie}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`;
}

/**
 * Dashboard sign-in and sign-out. These routes touch no service (no `service`) and make no
 * change a Slack relay could ask for (no `slackAction`); bearer clients never need them.
 */
export function sessionRoutes({ deploys }: ApiContext, sessions: SessionStore, ttlMs: number, refusals: Pick<RefusalAudit, 'note'>): Route[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/v1/session',
      summary: 'dashboard sign-in: exchange an API token for a session cookie (HttpOnly, SameSite=Strict) and the CSRF token its changes must send',
      scope: null,
      action: 'sign in',
      audit: 'sign-in',
      body: signInBody,
      responses: { 201: { description: 'signed in; the cookie is set', schema: sessionJson }, 400: { description: 'refused', schema: errorJson }, 401: { description: 'unknown token', schema: errorJson } },
      async handle({ body, request, reply }) {
        let created: ReturnType<SessionStore['create']>;
        try {
          created = sessions.create(body.token);
        } catch (err) {
          // Audited like a bearer request's 401 (rate-limited): token guessing through the sign-in form shows.
          if (isFleetcastError(err, 'UNAUTHORIZED')) {
            await refusals.note({ action: 'sign-in', target: 'dashboard', actor: 'unknown-token', error: err, detail: { route: '/v1/session', ip: request.ip, tokenSha256: tokenSha256(body.token).slice(0, 12) } });
          }
          throw err;
        }
        const { id, csrf, principal } = created;
        await auditChange(deploys, principal, 'sign-in', 'dashboard', { ip: request.ip });
        void reply.header('set-cookie', cookie(request, id, Math.floor(ttlMs / 1000))).code(201);
        return sessionReply(principal, csrf);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/session',
      summary: 'the signed-in caller and the CSRF token of the session',
      scope: 'read',
      action: 'read the session',
      responses: { 200: { description: 'the caller', schema: sessionJson }, 401: { description: 'not signed in', schema: errorJson } },
      async handle({ principal, request }) {
        const id = request.headers.authorization ? null : sessionIdOf(request.headers.cookie);
        return sessionReply(principal!, id === null ? null : sessions.resolve(id).csrf);
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/v1/session',
      summary: 'sign out: the session ends and its cookie is cleared',
      scope: 'read',
      action: 'sign out',
      audit: 'sign-out',
      responses: { 200: { description: 'signed out', schema: z.object({ signedOut: z.boolean() }) }, 401: { description: 'not signed in', schema: errorJson } },
      async handle({ principal, request, reply }) {
        const id = sessionIdOf(request.headers.cookie);
        if (id !== null) sessions.delete(id);
        await auditChange(deploys, principal!, 'sign-out', 'dashboard', {});
        void reply.header('set-cookie', cookie(request, '', 0));
        return { signedOut: id !== null };
      },
    }),
  ];
}
