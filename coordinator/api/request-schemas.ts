import { z } from 'zod';
import { buildStatuses } from '../../entities/index.ts';
import { buildIdText } from '../../api-contract/index.ts';
import { serviceChange, serviceSpec } from '../../queue/services/index.ts';

export { buildIdText };

// The requests of the API, as zod schemas: they validate input and, through z.toJSONSchema,
// describe the API in GET /v1/openapi.json, so the documentation cannot drift from the checks.

/** The registry's own rule, so the API refuses exactly what the registry would (`../x`, `a/b`). */
export const serviceName = serviceSpec.shape.name;

export const commitSha = z
  .string()
  .regex(/^[0-9a-fA-F]{7,64}$/, 'give 7 to 64 hexadecimal characters (e.g. the output of git rev-parse HEAD)');

/** Unknown fields are refused: a misspelt `runComand` should not silently vanish. */
export const addServiceBody = serviceSpec.strict().meta({ id: 'AddService' });

export const serviceParams = z.object({ name: serviceName });

/** PATCH /v1/services/:name: the fields to change (absent: unchanged; null clears runCommand / healthUrl). */
export const updateServiceBody = serviceChange.strict().meta({ id: 'UpdateService' });

export const removeServiceQuery = z.strictObject({
  force: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true')
    .meta({ description: 'remove it even while machines run it (audited)' }),
});

export const submitBuildBody = z
  .strictObject({
    service: serviceName,
    commit: commitSha,
    force: z.boolean().default(false).meta({ description: 'queue even if the same commit is already QUEUED or RUNNING' }),
    overrideBranch: z
      .boolean()
      .default(false)
      .meta({ description: "admin scope only, audited: build the commit even if it is not on the service's branch" }),
  })
  .meta({ id: 'SubmitBuild' });

export const buildParams = z.object({ id: buildIdText });

/** Page size is capped below the queue's own cap so one more row tells whether a next page exists. */
export const maxPageSize = 500;

export const listBuildsQuery = z.strictObject({
  service: serviceName.optional(),
  status: z.enum(buildStatuses).optional(),
  limit: z.coerce.number().int().min(1).max(maxPageSize).default(50),
  before: buildIdText.optional().meta({ description: "only builds older than this one: the previous page's `next`" }),
});

export const logQuery = z.strictObject({
  offset: z.coerce.number().int().min(0).default(0).meta({ description: 'byte offset to read from: the previous chunk’s x-fleetcast-log-offset' }),
});

export const replicateQuery = z.strictObject({
  region: z.string().regex(/^[a-z0-9-]+$/, 'region names are lower-case letters, digits and dashes').optional(),
});

const regionList = z.array(z.string().regex(/^[a-z0-9-]+$/, 'region names are [a-z0-9-]+')).min(1).max(64);

/** A wave: regions, or shares of them (`eu:25%`: the machines of eu in 25 % of it, chosen by a hash of machine id and service). */
const waveTargets = z.array(z.string().regex(/^[a-z0-9-]+(:[0-9.]{1,12}%)?$/, 'a region (eu) or a share of one (eu:25%, at most two decimals)')).min(1).max(64);

export const deployBody = z
  .strictObject({
    build: buildIdText,
    regions: regionList.optional().meta({ description: 'deploy to these regions only, at once (one wave); @defaultValue every configured region, in the waves of FLEETCAST_DEPLOY_WAVES' }),
    waves: z
      .array(waveTargets)
      .min(1)
      .max(64)
      .optional()
      .meta({ description: 'explicit waves, e.g. [["eu"], ["us", "ap"]] or [["eu:1%"], ["eu"], ["us", "ap"]] (a share of a region first): each is written once the one before has converged' }),
    reason: z.string().max(2000).optional(),
    overrideFreeze: z.string().trim().min(1).max(2000).optional().meta({ description: 'admin only: deploy inside a freeze window, for this reason (audited)' }),
  })
  .refine((body) => body.regions === undefined || body.waves === undefined, 'give regions or waves, not both')
  .meta({ id: 'Deploy' });

export const rollbackBody = z
  .strictObject({
    to: buildIdText.optional().meta({ description: 'the build to return to; @defaultValue the build deployed before the current one' }),
    regions: regionList.optional(),
    reason: z.string().max(2000).optional(),
  })
  .meta({ id: 'Rollback' });

export const lockBody = z.strictObject({ reason: z.string().trim().min(1, 'say why the service is locked').max(2000) }).meta({ id: 'Lock' });

/** POST /v1/deployments/:id/{pause,resume,promote,abort}; the body may be empty. */
export const controlBody = z
  .strictObject({
    reason: z.string().max(2000).optional().meta({ description: 'why; kept in the audit row (and, for abort, in the lock and the deployment)' }),
    wave: z.number().int().min(1).optional().meta({ description: 'promote: the wave whose gate to skip (1-based), so that a retry does not skip the next one too; @defaultValue the current gate' }),
  })
  .default({})
  .meta({ id: 'RolloutControl' });

export const deploymentParams = z.object({ id: z.string().regex(/^d?\d{1,15}$/, 'a deployment id: d7 (or 7)') });

/** The Idempotency-Key header: retries (Slack's, a double click, a CLI re-run) get the first answer back. */
export const idempotencyKeyHeader = z
  .string()
  .min(1)
  .max(200, 'an Idempotency-Key is at most 200 characters')
  .regex(/^[\x21-\x7e]+$/, 'an Idempotency-Key is printable ASCII without spaces')
  .optional();

export const listDeploymentsQuery = z.strictObject({
  service: serviceName.optional(),
  limit: z.coerce.number().int().min(1).max(maxPageSize).default(50),
});
