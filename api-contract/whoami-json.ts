import { z } from 'zod';
import { scopes } from './scopes.ts';

export const whoamiJson = z
  .object({
    name: z.string().meta({ description: 'who requests are recorded as: the token name, or the person acted for' }),
    scopes: z.array(z.enum(scopes)),
    actAs: z.boolean().meta({ description: 'the token may name the person it acts for in x-fleetcast-on-behalf-of' }),
    onBehalf: z.object({ token: z.string(), id: z.string() }).nullable().meta({ description: 'the relaying token and the person’s stable id, when acting for someone' }),
  })
  .meta({ id: 'Whoami' });

export type WhoamiJson = z.output<typeof whoamiJson>;
