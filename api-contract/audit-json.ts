import { z } from 'zod';

/** One audit row: who did (or was refused) what, to which service or object, and the particulars. */
export const auditEntryJson = z
  .object({
    id: z.number().int(),
    at: z.string().meta({ description: 'ISO 8601 time' }),
    actor: z.string().meta({ description: 'the token holder, the person a relay acted for (slack:alice), webhook, coordinator, or unknown-token' }),
    action: z.string().meta({ description: 'build, cancel, replicate, service-add, deploy, rollback, lock, unlock, goal-write, request (a refused read)…' }),
    target: z.string().meta({ description: 'the service (or the route, for a refused request that named none)' }),
    result: z.enum(['ok', 'refused', 'error']),
    detail: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEntry' });

export const auditPageJson = z
  .object({
    entries: z.array(auditEntryJson).meta({ description: 'newest first' }),
    next: z.string().nullable().meta({ description: 'pass as `before` for the next (older) page; null on the last one' }),
  })
  .meta({ id: 'AuditPage' });

export type AuditEntryJson = z.output<typeof auditEntryJson>;
export type AuditPageJson = z.output<typeof auditPageJson>;
