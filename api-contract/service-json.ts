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
    metricGate: z
      .object({ query: z.string(), max: z.number(), holdMs: z.number() })
      .nullable()
      .meta({ description: "the PromQL query ({{region}}, {{build}}, {{service}} filled in per region) each wave of its deploys must keep at or below max for holdMs after converging (with FLEETCAST_PROMETHEUS_URL set); null: the agents' health only" }),
    wavePlan: z.string().nullable().meta({ description: "its own wave plan (canary, all, or waves such as eu:1%;eu;us,ap); null: the coordinator's (FLEETCAST_DEPLOY_WAVES)" }),
    autoRollback: z.boolean().nullable().meta({ description: 'whether a failed wave is rolled back automatically; null: as FLEETCAST_DEPLOY_AUTO_ROLLBACK' }),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Service' });

export type ServiceJson = z.output<typeof serviceJson>;

export const serviceListJson = z.object({ services: z.array(serviceJson) }).meta({ id: 'ServiceList' });

export type ServiceListJson = z.output<typeof serviceListJson>;

/** DELETE /v1/services/:name: the service is removed; `changed` is false when it was removed already. */
export const removedServiceJson = z.object({ name: z.string(), removed: z.literal(true), changed: z.boolean() }).meta({ id: 'RemovedService' });

export type RemovedServiceJson = z.output<typeof removedServiceJson>;
