import { z } from 'zod';
import { buildJson } from './build-json.ts';
import { lockJson } from './deployment-json.ts';
import { errorJson } from './error-json.ts';

export const commitJson = z.object({ sha: z.string(), author: z.string().meta({ description: '`Name <email>`' }), subject: z.string() }).meta({ id: 'Commit' });
export type CommitJson = z.output<typeof commitJson>;

export const deployPreviewJson = z
  .object({
    kind: z.enum(['deploy', 'rollback']),
    service: z.string(),
    build: buildJson.meta({ description: 'the build it would deploy (a rollback: the build it would return to), with its copies per region' }),
    waves: z.array(z.array(z.string())).meta({ description: 'the waves it would roll out in; a rollback: one, every region named at once' }),
    regions: z.array(
      z.object({
        region: z.string(),
        current: z.object({ build: z.string(), deployment: z.string() }).nullable().meta({ description: "the region's goal now; null: nothing deployed there yet (or a goal that does not verify)" }),
        machines: z.number().meta({ description: 'machines reporting on the service, silent ones included' }),
        silent: z.number(),
        running: z.number().meta({ description: 'machines reporting in time that already run the build' }),
        holding: z.number().meta({ description: 'machines reporting in time with the build verified in their cache, not running it: they switch without a transfer (rollback readiness)' }),
        known: z.boolean().meta({ description: "false while the region's reports cannot be read: the counts are 0, not known" }),
      }),
    ),
    changes: z
      .array(
        z.object({
          from: z.string().nullable().meta({ description: 'the build these regions run now; null: nothing deployed yet (every commit up to the build counts as shipped)' }),
          fromCommit: z.string().nullable(),
          regions: z.array(z.string()),
          shipped: z.array(commitJson).meta({ description: 'commits the change brings, newest first' }),
          removed: z.array(commitJson).meta({ description: 'commits the change takes away (a rollback, or an older build), newest first' }),
          truncated: z.boolean().meta({ description: 'more commits than listed (50 per direction)' }),
          error: z.string().nullable().meta({ description: 'why the commits could not be listed (repository unreachable…); the rest of the preview holds' }),
        }),
      )
      .meta({ description: 'per group of regions on the same build, the commits from the mirror the coordinator keeps of the repository' }),
    lock: lockJson.nullable().meta({ description: "the service's lock: a deploy is refused by it (LOCKED); a rollback replaces it" }),
    refusals: z.array(errorJson).meta({ description: 'every rule the request breaks, in the order the real request checks them; it would be refused with the first. Empty: it would go ahead' }),
  })
  .meta({ id: 'DeployPreview' });

export type DeployPreviewJson = z.output<typeof deployPreviewJson>;
