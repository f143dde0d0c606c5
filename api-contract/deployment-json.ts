import { z } from 'zod';
import { deploymentStatuses, waveStatuses } from '../entities/index.ts';
import { goalSchema, mirrorProblems, refusalCodes } from '../goalstate/index.ts';

const iso = z.iso.datetime();

export const waveJson = z
  .object({
    regions: z.array(z.string()),
    status: z.enum(waveStatuses).meta({ description: 'PENDING, WRITTEN (machines converging), CONVERGED, FAILED (too many machines failed, or timed out), SKIPPED' }),
    writtenAt: iso.nullable(),
    doneAt: iso.nullable(),
    goals: z
      .record(z.string(), z.object({ seq: z.number(), digest: z.string(), key: z.string() }))
      .meta({ description: 'per region written, the signed goal the wave is judged against: its sequence, digest and signing key id' }),
    promotedBy: z.string().optional().meta({ description: 'who promoted the rollout past this wave (counted as converged, no soak after it)' }),
  })
  .meta({ id: 'Wave' });
export type WaveJson = z.output<typeof waveJson>;

/** A deployment as the API and `fleetcast deploy|rollback --json` show it. */
export const deploymentJson = z
  .object({
    id: z.string().meta({ description: 'd7; while SQL was down (spooled: true) a placeholder d9<ms, 15 digits>' }),
    service: z.string(),
    build: z.string(),
    regions: z.array(z.string()),
    kind: z.enum(['deploy', 'rollback']),
    requestedBy: z.string(),
    reason: z.string(),
    status: z.enum(deploymentStatuses).meta({
      description:
        'WRITING (first wave being written), ROLLING (waves written one after another until every one converged), PAUSED (no next wave is written until resumed), CONVERGED (every wave converged), FAILED (a wave failed or a goal could not be written: error says which, why and what was done), ABORTED (stopped by a person; its regions rolled back), SUPERSEDED (a newer deployment took over), ROLLED_BACK (a rollback replaced its build in all its regions)',
    }),
    createdAt: iso,
    error: z.string().nullable(),
    waves: z.array(waveJson),
    convergedAt: iso.nullable().meta({ description: 'when every wave had converged' }),
    rollback: z.string().nullable().meta({ description: "the rollback that put a FAILED or ABORTED deployment's written regions back on the build they ran before (a placeholder id if it ran while SQL was down); pending while it is being done; null if none" }),
    spooled: z.boolean().meta({ description: 'true: SQL was down; the record is written to it when it answers again' }),
    replayed: z.boolean().meta({ description: 'true: an earlier request with the same Idempotency-Key made this deployment; nothing new was done' }),
  })
  .meta({ id: 'Deployment' });

export type DeploymentJson = z.output<typeof deploymentJson>;

export const deploymentListJson = z.object({ deployments: z.array(deploymentJson) }).meta({ id: 'DeploymentList' });
export type DeploymentListJson = z.output<typeof deploymentListJson>;

export const lockJson = z.object({ service: z.string(), lockedBy: z.string(), reason: z.string(), since: iso }).meta({ id: 'Lock' });
export type LockJson = z.output<typeof lockJson>;

/** Where a region's machines stand against a build. */
export const convergenceJson = z
  .object({
    region: z.string(),
    service: z.string(),
    goalBuild: z.string().nullable(),
    goalDigest: z.string().nullable().meta({ description: 'the digest of the signed goal a running machine must report' }),
    goalSeq: z.number().nullable().meta({ description: 'the sequence of the signed goal a running machine must report; null: no goal signed for this region yet' }),
    machines: z.number().meta({ description: 'machines with a report for the service, silent ones included' }),
    running: z.number().meta({ description: 'reporting in time and running the signed goal: its build, digest and sequence' }),
    mismatched: z.number().meta({ description: 'reporting the goal build as running, but with another digest or goal sequence: not counted as running' }),
    refused: z
      .object({
        machines: z.number(),
        codes: z.partialRecord(z.enum(refusalCodes), z.number()),
        examples: z.array(z.object({ machine: z.string(), code: z.enum(refusalCodes), message: z.string(), at: z.string() })),
      })
      .meta({ description: 'machines whose goal mirror holds a document they refused (GOAL_SIGNATURE_INVALID, GOAL_REPLAYED, GOAL_INVALID), by code; they keep running their build' }),
    downloading: z.object({ machines: z.number(), bytes: z.number(), total: z.number() }),
    failed: z.object({ machines: z.number(), examples: z.array(z.object({ machine: z.string(), build: z.string().nullable(), error: z.string().nullable(), at: z.string() })) }),
    silent: z.number().meta({ description: 'no report within FLEETCAST_STATUS_SILENT_AFTER' }),
    other: z.number().meta({ description: 'idle, or on another build' }),
    runningBuilds: z.record(z.string(), z.number()).meta({ description: 'machines reporting in time and running, by build' }),
    holding: z
      .number()
      .meta({ description: 'reporting in time, neither running the goal build nor failed on it, with the goal build verified in their cache (also counted in other or downloading): they switch to it without a transfer' }),
    runningDigests: z
      .array(z.object({ build: z.string(), digest: z.string(), machines: z.number() }))
      .meta({ description: 'machines reporting in time and running, by build and the sha256 they report for it (verified when they installed it), most machines first' }),
    converged: z.boolean().meta({ description: 'every machine reporting in time runs the signed goal (true with no machines)' }),
    known: z.boolean().meta({ description: "false while the region's reports cannot be read (leaf or hub link down)" }),
  })
  .meta({ id: 'Convergence' });
export type ConvergenceJson = z.output<typeof convergenceJson>;

/** A region's goal mirror as the coordinator checks it. */
export const mirrorJson = z
  .object({
    region: z.string(),
    state: z.enum(['ok', ...mirrorProblems]).meta({ description: 'ok, missing, not-a-mirror, diverged (other documents than the hub), stalled (no contact with the hub), unreachable' }),
    problem: z.string().nullable(),
    lag: z.number().nullable(),
    lastActiveMs: z.number().nullable(),
    diverged: z.array(z.string()),
    checkedAt: iso,
    repairs: z.number().meta({ description: 'times this coordinator recreated the mirror since it started' }),
    lastRepair: z.object({ at: iso, problem: z.string(), ok: z.boolean() }).nullable(),
  })
  .meta({ id: 'GoalMirror' });
export type MirrorJson = z.output<typeof mirrorJson>;

export const deploymentProgressJson = z
  .object({ deployment: deploymentJson, progress: z.array(convergenceJson), final: z.boolean() })
  .meta({ id: 'DeploymentProgress' });
export type DeploymentProgressJson = z.output<typeof deploymentProgressJson>;

export const serviceStatusJson = z
  .object({
    service: z.string(),
    lock: lockJson.nullable(),
    regions: z.array(
      z.object({
        region: z.string(),
        goal: goalSchema.nullable(),
        revision: z.number().nullable(),
        goalError: z
          .object({ code: z.string(), message: z.string() })
          .nullable()
          .meta({
            description:
              'the goal key holds a malformed value (GOAL_INVALID) or one not signed by a trusted key (GOAL_SIGNATURE_INVALID): goal is null, agents keep running their last goal, the next deploy or rollback overwrites it',
          }),
        convergence: convergenceJson,
        mirror: mirrorJson.nullable().meta({ description: "the region's goal mirror as the coordinator last checked it; null before the first check" }),
      }),
    ),
    deployment: deploymentJson.nullable().meta({ description: 'the newest deployment of the service' }),
    deployWaves: z.array(z.array(z.string())).meta({ description: 'the waves a deploy to every region would roll out in (FLEETCAST_DEPLOY_WAVES), e.g. [["eu"], ["us", "ap"]]' }),
  })
  .meta({ id: 'ServiceStatus' });
export type ServiceStatusJson = z.output<typeof serviceStatusJson>;
