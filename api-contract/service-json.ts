import { z } from 'zod';

/** A service as the API and `fleetcast service … --json` show it. */
export const serviceJson = z
  .object({
    name: z.string(),
    repo: z.string(),
    branch: z.string(),
    buildCommand: z.string(),
    artifactPath: z.string(),
    runCommand: z.string().nullable(),
    healthUrl: z.string().nullable(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Service' });

export type ServiceJson = z.output<typeof serviceJson>;

export const serviceListJson = z.object({ services: z.array(serviceJson) }).meta({ id: 'ServiceList' });

export type ServiceListJson = z.output<typeof serviceListJson>;
