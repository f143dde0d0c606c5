import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { SlackAction } from '../../api-contract/index.ts';
import type { Principal, Scope } from './auth/index.ts';
import { parseInput } from './parse-input.ts';

export interface RouteResponse {
  description: string;
  /** The JSON body; absent for bodies that are not JSON (see contentType). */
  schema?: z.ZodType;
  /** @defaultValue `application/json` */
  contentType?: string;
  headers?: Record<string, string>;
}

export interface RouteInput<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType> {
  body: z.output<B>;
  query: z.output<Q>;
  params: z.output<P>;
  /** Who called; null on routes that need no token. */
  principal: Principal | null;
  request: FastifyRequest;
  reply: FastifyReply;
}

export interface RouteSpec<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType> {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** fastify syntax: `/v1/builds/:id`. */
  url: string;
  summary: string;
  /** The scope a token needs; null: no token at all (health, metrics, the API description). */
  scope: Scope | null;
  /** For refusals: "token ci may not <action>". */
  action: string;
  /** State-changing routes: the audit action a refused token is recorded under (deploy, rollback, lock, unlock). */
  audit?: string;
  /**
   * The service the request touches, read from its input (null: it names none, e.g. an
   * unfiltered list). Set on every route that touches a service: tokens limited to services and
   * relays acting for Slack users are checked against it before `handle` runs.
   */
  service?(input: Omit<RouteInput<B, Q, P>, 'principal' | 'reply'>): Promise<string | null> | string | null;
  /** The Slack grant (build, deploy, rollback, lock) a relay needs to make this change for a person. */
  slackAction?: SlackAction;
  body?: B;
  query?: Q;
  params?: P;
  responses: Record<number, RouteResponse>;
  /** Returns the reply body (JSON unless the handler set another type on `reply`). */
  handle(input: RouteInput<B, Q, P>): Promise<unknown>;
}

/** A route with its input types erased: what the server registers and the OpenAPI document describes. */
export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  summary: string;
  scope: Scope | null;
  action: string;
  audit: string | undefined;
  slackAction: SlackAction | undefined;
  body: z.ZodType | undefined;
  query: z.ZodType | undefined;
  params: z.ZodType | undefined;
  responses: Record<number, RouteResponse>;
  /** `guard` checks the principal against the service the request touches, before the work. */
  handle(request: FastifyRequest, reply: FastifyReply, principal: Principal | null, guard: ServiceGuard): Promise<unknown>;
}

/** Checks the caller against the service a request touches (the server's ServiceAccess); throws FORBIDDEN. */
export type ServiceGuard = (principal: Principal, service: string | null, route: Route) => Promise<void>;

/**
 * One API operation: its input schemas validate the request (a failure is 400 INVALID_INPUT
 * naming every bad field) and, with its responses, describe it in GET /v1/openapi.json.
 */
export function defineRoute<B extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined, P extends z.ZodType = z.ZodUndefined>(
  spec: RouteSpec<B, Q, P>,
): Route {
  return {
    method: spec.method,
    url: spec.url,
    summary: spec.summary,
    scope: spec.scope,
    action: spec.action,
    audit: spec.audit,
    slackAction: spec.slackAction,
    body: spec.body,
    query: spec.query,
    params: spec.params,
    responses: spec.responses,
    async handle(request, reply, principal, guard) {
      const input = {
        body: (spec.body ? parseInput(spec.body, request.body, 'body') : undefined) as z.output<B>,
        query: (spec.query ? parseInput(spec.query, request.query ?? {}, 'query') : undefined) as z.output<Q>,
        params: (spec.params ? parseInput(spec.params, request.params ?? {}, 'path') : undefined) as z.output<P>,
        request,
      };
      if (principal !== null) {
        if (spec.service) await guard(principal, await spec.service(input), this);
        else if (principal.onBehalf && spec.method !== 'GET') await guard(principal, null, this);
      }
      return spec.handle({ ...input, principal, reply });
    },
  };
}
