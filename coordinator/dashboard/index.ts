import type { FastifyInstance, FastifyReply } from 'fastify';
import { DashboardAssets } from './dashboard-assets.ts';

/** Where the dashboard is served on the coordinator's API server. */
export const dashboardPath = '/dashboard/';

/** Scripts and styles only from this server; the page is never framed (clickjacking of its buttons). */
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * The web dashboard: static assets served by the coordinator itself (no CDN, works offline).
 * The page holds no token: it signs in once (POST /v1/session) and then speaks the normal API
 * and /v1/events with the session cookie.
 */
export function registerDashboard(app: FastifyInstance): void {
  const assets = new DashboardAssets();
  const send = (reply: FastifyReply, type: string, body: string) =>
    reply
      .header('content-type', type)
      .header('content-security-policy', contentSecurityPolicy)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(body);
  app.get('/', (_request, reply) => reply.redirect(dashboardPath));
  app.get('/dashboard', (_request, reply) => reply.redirect(dashboardPath));
  app.get(dashboardPath, async (_request, reply) => send(reply, 'text/html; charset=utf-8', await assets.file('index.html')));
  app.get(`${dashboardPath}app.css`, async (_request, reply) => send(reply, 'text/css; charset=utf-8', await assets.file('app.css')));
  app.get(`${dashboardPath}app.js`, async (_request, reply) => send(reply, 'text/javascript; charset=utf-8', await assets.app()));
}
