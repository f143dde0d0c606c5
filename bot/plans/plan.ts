import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { FleetcastError } from '../../errors/index.ts';

/**
 * A preview's confirmation older than this is refused: the builds, locks and regions it showed
 * may have changed. Slack's response_url lives 30 minutes; a person decides in far less.
 */
export const planMaxAgeMs = 15 * 60_000;

/**
 * What a preview proposes, carried in its buttons' `value` (Slack sends it back with the click,
 * inside the signed request, and the bot's own message is the only one with such buttons). It
 * holds everything a confirmation needs, so a click still works after the bot restarted; its
 * id is the deploy's idempotency key.
 */
export const planSchema = z.object({
  v: z.literal(1),
  id: z.string().regex(/^[0-9a-f]{16}$/),
  kind: z.enum(['deploy', 'rollback']),
  service: z.string(),
  /** deploy: the build; rollback: the build asked for, or null for "the one deployed before". */
  build: z.string().nullable(),
  /** Regions at once; null: see waves. */
  regions: z.array(z.string()).nullable(),
  /** Explicit waves; both null: the coordinator's own plan, to every region. */
  waves: z.array(z.array(z.string())).nullable(),
  /** Who asked for the preview (Slack user id). */
  user: z.string(),
  /** When the preview was made (ms since the epoch). */
  at: z.number().int(),
});

export type Plan = z.infer<typeof planSchema>;

export function newPlan(fields: Omit<Plan, 'v' | 'id' | 'at'>, now: number): Plan {
  return { v: 1, id: randomBytes(8).toString('hex'), at: now, ...fields };
}

export function encodePlan(plan: Plan): string {
  return JSON.stringify(plan);
}

export function decodePlan(value: string | undefined): Plan {
  let json: unknown;
  try {
    json = JSON.parse(value ?? '');
  } catch {
    json = undefined;
  }
  const result = planSchema.safeParse(json);
  if (!result.success) throw new FleetcastError('INVALID_INPUT', 'this button belongs to a message this bot cannot read (an older version?); run the command again');
  return result.data;
}

/** The Idempotency-Key of a plan's deploy or rollback: the same for every click on its preview. */
export function idempotencyKey(plan: Plan): string {
  return `slack-${plan.kind}-${plan.id}`;
}
