import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { FleetcastError } from '../../errors/index.ts';
import type { ServerCertificate } from '../../trust/index.ts';
import type { Logger } from '../../logging/index.ts';
import type { ApiContext } from './api-context.ts';
import type { ApiOptions } from './api-options.ts';
import { actingPrincipal, csrfHeader, onBehalfOfHeader, presentedToken, RefusalAudit, requestPrincipal, requireScope, SessionStore, tokenSha256, type Principal } from './auth/index.ts';
import { emptyBuildLog } from './build-log-source.ts';
import { installErrorReplies } from './error-replies.ts';
import { registerDashboard } from '../dashboard/index.ts';
import { EventsServer } from './events/events-server.ts';
import { FleetFeed } from './events/fleet-feed.ts';
import { CoordinatorMetrics } from './metrics/coordinator-metrics.ts';
import type { Route } from './route.ts';
import { auditRoutes } from './routes/audit.ts';
import { buildRoutes } from './routes/builds.ts';
import { deployRoutes } from './routes/deploys.ts';
import { fleetRoutes } from './routes/fleet.ts';
import { sessionRoutes } from './routes/session.ts';
import { deliveryRoutes } from './routes/delivery.ts';
import { announcementRoutes } from './routes/announcements.ts';
import { registerGitHook } from './routes/git-hook.ts';
import { healthRoutes } from './routes/health.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { openApiRoutes } from './routes/openapi.ts';
import { serviceRoutes } from './routes/services.ts';
import { slackRoutes } from './routes/slack.ts';
import { whoamiRoutes } from './routes/whoami.ts';

/**
 * The coordinator's HTTP API: JSON under /v1, bearer tokens with scopes, /healthz, /metrics,
 * the git webhook and the /v1/events WebSocket, on one fastify server.
 */
export class ApiServer {
  private constructor(
    private readonly app: FastifyInstance,
    private readonly events: EventsServer,
    private readonly refusals: RefusalAudit,
    /** Where clients reach the server, with the port the OS chose when asked for 0. */
    readonly url: string,
    private readonly tls: ServerCertificate | null,
  ) {}

  static async start(context: Omit<ApiContext, 'logs'>, options: ApiOptions): Promise<ApiServer> {
    const logs = options.logs ?? emptyBuildLog;
    const ctx: ApiContext = { ...context, logs };
    const logger = ctx.logger.child({ component: 'api' });
    const tls = options.tls ?? null;
    // Typed with fastify's own logger interface: pino's full type only makes its generics diverge.
    const app: FastifyInstance = Fastify({
      // With a certificate the listener speaks only TLS: a plaintext request is dropped at the handshake.
      serverFactory: (handler) => (tls === null ? http.createServer(handler) : (https.createServer(tls.current(), handler) as unknown as http.Server)),
      loggerInstance: logger as FastifyBaseLogger,
      // logRequests() below writes one line per request, without the URL (it may carry ?token=).
      logController: new LogController({ disableRequestLogging: true }),
    });
    const principals = new WeakMap<FastifyRequest, Principal>();
    const refusals = new RefusalAudit((row) => ctx.deploys.record(row), logger);
    // Every 401 and 403 of a route is audited (rate-limited): who, what, and why not.
    const noteRefusal = async (request: FastifyRequest, route: Route, err: unknown, who: Principal | null, service: string | null) => {
      if (!(err instanceof FleetcastError) || (err.code !== 'UNAUTHORIZED' && err.code !== 'FORBIDDEN')) return;
      const presented = presentedToken(request.headers.authorization);
      const params = request.params as Record<string, string> | undefined;
      await refusals.note({
        action: route.audit ?? 'request',
        target: service ?? params?.name ?? params?.id ?? route.url,
        actor: who?.name ?? 'unknown-token',
        error: err,
        detail: {
          method: route.method,
          route: route.url,
          ip: request.ip,
          ...(who?.onBehalf ? { via: who.onBehalf } : {}),
          // A prefix of the presented token's hash: enough to match it to a token, nothing to present.
          ...(who === null && presented !== null ? { tokenSha256: tokenSha256(presented).slice(0, 12) } : {}),
        },
      });
    };

    installErrorReplies(app, logger);
    // The API speaks JSON only: without this, a text/plain body reaches the schema as a string
    // and is refused as "expected object", which does not say the Content-Type is the problem.
    app.removeContentTypeParser('text/plain');
    logRequests(app, logger, principals);

    const sessionTtlMs = options.sessionTtlMs ?? 12 * 3600_000;
    const sessions = new SessionStore(ctx.tokens, { ttlMs: sessionTtlMs });
    const metrics = new CoordinatorMetrics(ctx.db, ctx.queue, logger, ctx.fleet);
    await metrics.start();
    const routes: Route[] = [
      ...healthRoutes(ctx),
      ...metricsRoutes(ctx, metrics),
      ...serviceRoutes(ctx),
      ...buildRoutes(ctx),
      ...deployRoutes(ctx),
      ...deliveryRoutes(ctx),
      ...announcementRoutes(ctx),
      ...auditRoutes(ctx),
      ...fleetRoutes(ctx),
      ...sessionRoutes(ctx, sessions, sessionTtlMs, refusals),
      ...whoamiRoutes(),
      ...slackRoutes(ctx),
      ...openApiRoutes(() => routes),
    ];
    for (const route of routes) {
      app.route({
        method: route.method,
        url: route.url,
        // Before the body is read: an unauthenticated client cannot make the server parse anything.
        onRequest: async (request) => {
          if (route.scope === null) return;
          let principal: Principal | null = null;
          try {
            // A bearer token as before; else a dashboard session, whose changes must carry its CSRF token.
            principal = requestPrincipal(ctx.tokens, sessions, {
              authorization: request.headers.authorization,
              cookie: request.headers.cookie,
              csrf: request.headers[csrfHeader],
              change: route.method !== 'GET',
            }).principal;
            principal = actingPrincipal(principal, request.headers[onBehalfOfHeader]);
            requireScope(principal, route.scope, route.action);
          } catch (err) {
            await noteRefusal(request, route, err, principal, null);
            throw err;
          }
          principals.set(request, principal);
        },
        handler: (request, reply) =>
          route.handle(request, reply, principals.get(request) ?? null, async (principal, service, checked) => {
            try {
              await ctx.access.check(principal, service, { action: checked.action, change: checked.method !== 'GET', slackAction: checked.slackAction });
            } catch (err) {
              await noteRefusal(request, checked, err, principal, service);
              throw err;
            }
          }),
      });
    }
    registerGitHook(app, ctx, options.webhookSecret, options.webhookMaxBody ?? 1024 * 1024);

    registerDashboard(app);
    // One reader of the whole fleet for every dashboard connected (see FleetFeed).
    const fleetFeed = new FleetFeed({ services: ctx.services, deploys: ctx.deploys, queue: ctx.queue, replication: ctx.replication.status, pollMs: options.fleetPollMs, logger });
    const events = new EventsServer({ queue: ctx.queue, deploys: ctx.deploys, logs, tokens: ctx.tokens, sessions, fleet: fleetFeed, logger, pollMs: options.eventsPollMs });
    events.attach(app.server);

    try {
      await app.listen({ host: options.host, port: options.port });
    } catch (err) {
      await events.close();
      await app.close();
      const code = (err as NodeJS.ErrnoException).code;
      throw new FleetcastError(
        'CONFIG_INVALID',
        code === 'EADDRINUSE'
          ? `cannot listen on ${options.host}:${options.port}: the address is in use (another coordinator?); stop it or set FLEETCAST_LISTEN (--listen) to another address`
          : `cannot listen on ${options.host}:${options.port} (${(err as Error).message}); check FLEETCAST_LISTEN (--listen)`,
        { host: options.host, port: options.port },
        { cause: err },
      );
    }
    const url = clientUrl(app.server.address() as AddressInfo, tls !== null);
    if (tls !== null) {
      // A renewed certificate is served to new connections without a restart.
      tls.watch(app.server as unknown as https.Server, (err) => {
        if (err) logger.error({ err, cert: tls.certFile }, 'the API certificate changed but cannot be used: still serving the previous one');
        else logger.info({ cert: tls.certFile }, 'the API certificate changed: serving the new one');
      });
    }
    logger.info({ url, tls: tls?.certFile ?? null, tokens: ctx.tokens.size, webhook: options.webhookSecret !== undefined }, 'API listening');
    return new ApiServer(app, events, refusals, url, tls);
  }

  /** Stops taking requests and ends WebSockets first, then waits for requests in flight. */
  async close(): Promise<void> {
    await this.events.close();
    await this.app.close();
    this.refusals.stop();
    this.tls?.stop();
  }
}

/** A URL clients can use: a wildcard listen address is reached through loopback. */
function clientUrl(address: AddressInfo, tls: boolean): string {
  const host =
    address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '[::1]' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${tls ? 'https' : 'http'}://${host}:${address.port}`;
}

/**
 * One log line per request: the route pattern (never the raw URL, which may carry
 * `?token=`), the status, the time and who asked. Writes at info, reads at debug.
 */
function logRequests(app: FastifyInstance, logger: Logger, principals: WeakMap<FastifyRequest, Principal>): void {
  app.addHook('onResponse', async (request, reply) => {
    const line = {
      requestId: request.id,
      method: request.method,
      route: request.routeOptions.url ?? 'unknown',
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
      token: principals.get(request)?.onBehalf?.token ?? principals.get(request)?.name,
      onBehalfOf: principals.get(request)?.onBehalf ? principals.get(request)?.name : undefined,
    };
    if (request.method === 'GET' || request.method === 'HEAD') logger.debug(line, 'request');
    else logger.info(line, 'request');
  });
}
