import { z } from 'zod';
import { scopes } from '../auth/index.ts';
import { defineRoute, type Route } from '../route.ts';

export const whoamiJson = z
  .object({
    name: z.string().meta({ description: 'who requests are recorded as: the token name, or the person acted for' }),
    scopes: z.array(z.enum(scopes)),
    actAs: z.boolean().meta({ description: 'the token may name the person it acts for in x-fleetcast-on-behalf-of' }),
    onBehalf: z.object({ token: z.string(), id: z.string() }).nullable().meta({ description: 'the relaying token and the person’s stable id, when acting for someone' }),
  })
  .meta({ id: 'Whoami' });

export type WhoamiJson = z.output<typeof whoamiJson>;

/** What the API makes of the caller's token (and x-fleetcast-on-behalf-of): the bot checks its token at start with it. */
export function whoamiRoutes(): Route[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/whoami',
      summary: 'the caller as the API sees it: name, scopes, whether it may act for others',
      scope: 'read',
      action: 'ask who it is',
      responses: { 200: { description: 'the caller', schema: whoamiJson } },
      async handle({ principal }) {
        const p = principal!;
        return { name: p.name, scopes: [...p.scopes], actAs: p.actAs, onBehalf: p.onBehalf ?? null } satisfies WhoamiJson;
      },
    }),
  ];
}
