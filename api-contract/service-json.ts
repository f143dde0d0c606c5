import { z } from 'zod';

/** A service as the API and `fleetcast service … --json` show it. */
export const serviceJson = z
  .object({
    name: z.string(),
    repo: z.string().meta({ description: 'the repository, credentials hidden' }),
    branch: z.string().meta({ description: 'the branch (several: comma-separated) whose commits may be built' }),
    buildCommand: z.string(),
    artifactPath: z.string(),
    runCommand: z.string().nullable(),
    healthUrl: z.string().nullable(),
    buildNetwork: z.boolean().meta({ description: 'whether its builds may reach the network' }),
    buildSettings: z.array(z.string()).meta({ description: 'names of the variables its builds get (values are not shown)' }),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Service' });

export type ServiceJson = z.output<typeof serviceJson>;

export const serviceListJson = z.object({ services: z.array(serviceJson) }).meta({ id: 'ServiceList' });

export type ServiceListJson = z.output<typeof serviceListJson>;

/** DELETE /v1/services/:name: the service is removed; `changed` is false when it was removed already. */
export const removedServiceJson = z.object({ name: z.string(), removed: z.literal(true), changed: z.boolean() }).meta({ id: 'RemovedService' });

export type RemovedServiceJson = z.output<typeof removedServiceJson>;
