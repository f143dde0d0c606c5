import { z } from 'zod';
import { deploymentStatuses, waveStatuses } from '../entities/index.ts';
import { goalSchema } from '../goalstate/index.ts';

const iso = z.iso.datetime();

export const waveJson = z
  .object({
    regions: z.array(z.string()),
    status: z.enum(waveStatuses).meta({ description: 'PENDING, WRITTEN (machines converging), CONVERGED, FAILED (too many machines failed, or timed out), SKIPPED' }),
    writtenAt: iso.nullable(),
    doneAt: iso.nullable(),
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
      description: 'WRITING (first wave), ROLLING (later waves wait for the earlier to converge), APPLIED (every wave written), FAILED (a goal write failed), HALTED (a wave failed; later waves not written), SUPERSEDED (a newer deployment took over)',
    }),
    createdAt: iso,
    error: z.string().nullable(),
    waves: z.array(waveJson),
    convergedAt: iso.nullable().meta({ description: 'when every wave had converged' }),
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
    machines: z.number().meta({ description: 'machines with a report for the service, silent ones included' }),
    running: z.number().meta({ description: 'reporting in time and running the goal build' }),
    downloading: z.object({ machines: z.number(), bytes: z.number(), total: z.number() }),
    failed: z.object({ machines: z.number(), examples: z.array(z.object({ machine: z.string(), build: z.string().nullable(), error: z.string().nullable(), at: z.string() })) }),
    silent: z.number().meta({ description: 'no report within FLEETCAST_STATUS_SILENT_AFTER' }),
    other: z.number().meta({ description: 'idle, or on another build' }),
    runningBuilds: z.record(z.string(), z.number()),
    converged: z.boolean().meta({ description: 'every machine reporting in time runs the goal build (true with no machines)' }),
    known: z.boolean().meta({ description: "false while the region's reports cannot be read (leaf or hub link down)" }),
  })
  .meta({ id: 'Convergence' });
export type ConvergenceJson = z.output<typeof convergenceJson>;

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
          .meta({ description: 'the goal key holds a malformed value (GOAL_INVALID): goal is null, agents keep running their last goal, the next deploy or rollback overwrites it' }),
        convergence: convergenceJson,
      }),
    ),
    deployment: deploymentJson.nullable().meta({ description: 'the newest deployment of the service' }),
    deployWaves: z.array(z.array(z.string())).meta({ description: 'the waves a deploy to every region would roll out in (FLEETCAST_DEPLOY_WAVES), e.g. [["eu"], ["us", "ap"]]' }),
  })
  .meta({ id: 'ServiceStatus' });
export type ServiceStatusJson = z.output<typeof serviceStatusJson>;
