import { z } from 'zod';
import { serviceStatusJson } from './deployment-json.ts';
import { scopes } from './scopes.ts';

/** A dashboard sign-in: who it is, and the CSRF token every change through the session must send. */
export const sessionJson = z
  .object({
    name: z.string(),
    scopes: z.array(z.enum(scopes)),
    services: z.array(z.string()).nullable().meta({ description: 'the services the token may touch; null: all' }),
    csrf: z.string().nullable().meta({ description: 'send as x-csrf-token with every change; null when the request came with a bearer token' }),
  })
  .meta({ id: 'Session' });
export type SessionJson = z.output<typeof sessionJson>;

export const fleetStatusJson = z.object({ services: z.array(serviceStatusJson) }).meta({ id: 'FleetStatus' });
export type FleetStatusJson = z.output<typeof fleetStatusJson>;

export const machineRowJson = z
  .object({
    service: z.string(),
    machine: z.string(),
    build: z.string().nullable(),
    state: z.string().meta({ description: 'idle, downloading, verifying, installing, running, failed' }),
    silent: z.boolean().meta({ description: 'no report within FLEETCAST_STATUS_SILENT_AFTER' }),
    error: z.string().nullable(),
    bytes: z.number(),
    total: z.number(),
    peers: z.number(),
    reportedAt: z.string(),
  })
  .meta({ id: 'Machine' });

export const machinePageJson = z
  .object({ region: z.string(), machines: z.array(machineRowJson), next: z.string().nullable().meta({ description: 'pass as ?cursor= for the next page; null: last page' }) })
  .meta({ id: 'MachinePage' });
export type MachinePageJson = z.output<typeof machinePageJson>;
