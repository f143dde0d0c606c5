import { z } from 'zod';

const iso = z.iso.datetime();

/** A freeze window as the API and `fleetcast freeze … --json` show it. */
export const freezeJson = z
  .object({
    id: z.string().meta({ description: 'f3' }),
    service: z.string().nullable().meta({ description: 'null: every service' }),
    kind: z.enum(['once', 'weekly']),
    startsAt: iso.nullable(),
    endsAt: iso.nullable(),
    weekly: z.string().nullable().meta({ description: 'e.g. "Fri 16:00-Mon 08:00", in timeZone' }),
    timeZone: z.string().nullable().meta({ description: 'an IANA time zone, e.g. Europe/Paris' }),
    reason: z.string(),
    createdBy: z.string(),
    createdAt: iso,
    activeUntil: iso.nullable().meta({ description: 'when the window is on now: when it ends; null when it is off' }),
  })
  .meta({ id: 'Freeze' });
export type FreezeJson = z.output<typeof freezeJson>;

export const freezeListJson = z.object({ freezes: z.array(freezeJson) }).meta({ id: 'FreezeList' });
export type FreezeListJson = z.output<typeof freezeListJson>;

/** One run of a pre-deploy check. */
export const checkRunJson = z
  .object({
    id: z.number(),
    build: z.string(),
    deployment: z.string().nullable().meta({ description: 'the deployment it let through; null when it failed' }),
    kind: z.enum(['command', 'url']),
    target: z.string().meta({ description: 'the command or URL' }),
    ok: z.boolean(),
    output: z.string().meta({ description: 'the end of its output (at most 4 KiB)' }),
    durationMs: z.number(),
    ranBy: z.string(),
    ranAt: iso,
  })
  .meta({ id: 'CheckRun' });
export type CheckRunJson = z.output<typeof checkRunJson>;

/** A service's delivery loop: continuous deploy, its pre-deploy check and their latest results, the freezes on. */
export const deliveryJson = z
  .object({
    service: z.string(),
    continuousDeploy: z.object({
      enabled: z.boolean(),
      branch: z.string(),
      build: z.string().nullable().meta({ description: 'the build continuous deploy last looked at' }),
      state: z.string().nullable().meta({ description: 'deployed, waiting or skipped' }),
      reason: z.string().nullable().meta({ description: 'why it waits or skipped it' }),
      deployment: z.string().nullable(),
      at: iso.nullable(),
    }),
    check: z.object({ command: z.string().nullable(), url: z.string().nullable(), timeoutMs: z.number().nullable() }),
    checks: z.array(checkRunJson).meta({ description: 'the newest runs of the check' }),
    freezes: z.array(freezeJson).meta({ description: "the service's and the global freeze windows" }),
  })
  .meta({ id: 'Delivery' });
export type DeliveryJson = z.output<typeof deliveryJson>;
