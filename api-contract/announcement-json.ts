import { z } from 'zod';
import { auditEntryJson } from './audit-json.ts';

/**
 * What the Slack bot announces, whatever started it (CLI, API, continuous deploy, a freeze): the
 * audit rows of deploys, rollbacks, rollout controls, locks, freezes and continuous deploy's
 * decisions, oldest first, after a cursor.
 */
export const announcementPageJson = z
  .object({
    entries: z.array(auditEntryJson).meta({ description: 'oldest first' }),
    next: z.number().int().meta({ description: 'pass as `after` for the next page (the newest audit id looked at)' }),
  })
  .meta({ id: 'AnnouncementPage' });

export type AnnouncementPageJson = z.output<typeof announcementPageJson>;

/** The audit actions announced. */
export const announcedActions = ['deploy', 'rollback', 'pause', 'resume', 'promote', 'abort', 'lock', 'unlock', 'freeze-add', 'freeze-remove', 'continuous-deploy'] as const;
