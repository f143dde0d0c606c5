import { z } from 'zod';
import type { BuildJson } from './build-json.ts';
import type { DeploymentProgressJson, ServiceStatusJson } from './deployment-json.ts';
import type { ErrorJson } from './error-json.ts';
import { servicePattern } from '../goalstate/index.ts';
import { buildIdText, deploymentIdText } from './ids.ts';

const serviceText = z.string().regex(servicePattern, 'a service name');

/** What a client of GET /v1/events sends, one JSON object per WebSocket message. */
export const clientMessage = z
  .union([
    z.strictObject({ subscribe: z.literal('build'), id: buildIdText }),
    z.strictObject({ subscribe: z.literal('log'), id: buildIdText, offset: z.number().int().min(0).default(0) }),
    z.strictObject({ subscribe: z.literal('deployment'), id: deploymentIdText }),
    // The whole fleet (every service's status, the newest builds): what the dashboard listens to.
    z.strictObject({ subscribe: z.literal('fleet') }),
    z.strictObject({ unsubscribe: z.literal('fleet') }),
    z.strictObject({ subscribe: z.literal('status'), service: serviceText }),
    z.strictObject({ unsubscribe: z.enum(['build', 'log']), id: buildIdText }),
    z.strictObject({ unsubscribe: z.literal('deployment'), id: deploymentIdText }),
    z.strictObject({ unsubscribe: z.literal('status'), service: serviceText }),
  ])
  .meta({ id: 'EventsClientMessage' });

export type ClientMessage = z.output<typeof clientMessage>;

/** What the server sends. `id` is always the `b42` form. */
export type ServerMessage =
  /** The build's row changed (status, attempts, claim, result); sent once at subscription too. */
  | { type: 'build'; build: BuildJson }
  | { type: 'log'; id: string; text: string; nextOffset: number }
  /** The build is final and its log is drained: nothing more will come for this subscription. */
  | { type: 'log-end'; id: string; nextOffset: number }
  /** The deployment or its machines moved; `final: true` on the last message of the subscription. */
  | ({ type: 'deployment' } & DeploymentProgressJson)
  /** Fleet subscription: a service's status (goal, machines, lock, newest deployment) changed; every service once at subscription. */
  | { type: 'service-status'; status: ServiceStatusJson }
  /** The service's status (as GET /v1/services/:name/status) at once and on every change; never final. */
  | { type: 'status'; status: ServiceStatusJson }
  | ({ type: 'error'; id?: string } & ErrorJson);

export const serverMessage = z
  .union([
    z.object({ type: z.literal('build'), build: z.object({}).loose().meta({ description: 'a Build' }) }),
    z.object({ type: z.literal('log'), id: z.string(), text: z.string(), nextOffset: z.number().int() }),
    z.object({ type: z.literal('log-end'), id: z.string(), nextOffset: z.number().int() }),
    z.object({ type: z.literal('deployment'), deployment: z.object({}).loose().meta({ description: 'a Deployment' }), progress: z.array(z.object({}).loose().meta({ description: 'a Convergence' })), final: z.boolean() }),
    z.object({ type: z.literal('service-status'), status: z.object({}).loose().meta({ description: 'a ServiceStatus' }) }),
    z.object({ type: z.literal('status'), status: z.object({}).loose().meta({ description: 'a ServiceStatus' }) }),
    z.object({ type: z.literal('error'), id: z.string().optional(), error: z.object({ code: z.string(), message: z.string() }).loose() }),
  ])
  .meta({ id: 'EventsServerMessage' });
