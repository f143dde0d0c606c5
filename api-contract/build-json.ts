import { z } from 'zod';
import { buildStatuses, replicationStatuses } from '../entities/index.ts';

const time = z.iso.datetime();

export const regionReplicationJson = z
  .object({
    region: z.string(),
    status: z.enum(replicationStatuses),
    attempts: z.number().int(),
    bytesCopied: z.number().int(),
    size: z.number().int().nullable(),
    startedAt: time.nullable(),
    finishedAt: time.nullable(),
    error: z.string().nullable().meta({ description: 'why the last copy failed, or why a verified copy went back to PENDING' }),
    removedAt: time.nullable().meta({ description: 'when retention deleted the regional copy' }),
  })
;

/**
 * A build as the API and `fleetcast … --json` show it. The field names are a stable interface
 * (DESIGN.md): the CLI, the bot and people's scripts read them.
 */
export const buildJson = z
  .object({
    id: z.string().regex(/^b\d+$/).meta({ description: 'b + the build number, e.g. b42' }),
    service: z.string(),
    commit: z.string().meta({ description: 'lower-case hex sha as given (7 to 64 characters)' }),
    artifact: z.string().meta({ description: "the service's artifact path when the build was queued" }),
    status: z.enum(buildStatuses),
    createdAt: time,
    startedAt: time.nullable(),
    finishedAt: time.nullable(),
    attempts: z.number().int(),
    maxAttempts: z.number().int(),
    claimedBy: z.string().nullable().meta({ description: 'the worker that holds (or last held) the build' }),
    lastHeartbeat: time.nullable(),
    failureReason: z.string().nullable(),
    digest: z.string().nullable().meta({ description: 'sha256 of the artifact (hex), once SUCCEEDED' }),
    size: z.number().int().nullable().meta({ description: 'artifact size in bytes, once SUCCEEDED' }),
    requestedBy: z.string().nullable(),
    cancelledBy: z.string().nullable(),
    commitAuthor: z.string().nullable().meta({ description: '`Name <email>` of the commit\'s author, once built' }),
    commitSubject: z.string().nullable().meta({ description: "the commit message's first line, once built" }),
    branchOverrideBy: z.string().nullable().meta({ description: "the admin who allowed building a commit off the service's branch; null: the branch rule held" }),
    used: z
      .object({
        buildCommand: z.string(),
        artifact: z.string(),
        runCommand: z.string().nullable(),
        healthUrl: z.string().nullable(),
        config: z.looseObject({ source: z.enum(['fleetcast.yml', 'service']) }).meta({ description: "where they came from, and the fleetcast.yml's waves, windows and gates as validated" }),
      })
      .nullable()
      .meta({ description: 'what the build was built with and runs with (deploys and rollbacks of it use these); null until it succeeded, and for builds older than this record' }),
    durationMs: z.number().int().nullable().meta({ description: 'finishedAt − startedAt of the last attempt; null until finished' }),
    deployable: z.boolean().nullable().meta({ description: 'SUCCEEDED and verified in every region; null where not looked up (event stream)' }),
    deployableReason: z.string().nullable().meta({ description: 'why not deployable, in words a person can act on' }),
    replication: z.array(regionReplicationJson).nullable().meta({ description: 'per configured region; null where not looked up' }),
  })
  .meta({ id: 'Build' });

export type BuildJson = z.output<typeof buildJson>;

export const buildPageJson = z
  .object({
    builds: z.array(buildJson),
    next: z.string().nullable().meta({ description: 'pass as ?before= for the next (older) page; null on the last page' }),
  })
  .meta({ id: 'BuildPage' });

export type BuildPageJson = z.output<typeof buildPageJson>;
