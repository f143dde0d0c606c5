import { whoamiJson, type WhoamiJson } from '../../../api-contract/index.ts';
import { defineRoute, type Route } from '../route.ts';

export { whoamiJson, type WhoamiJson };

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
