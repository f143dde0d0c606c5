import { z } from 'zod';
import type { ApiContext } from '../api-context.ts';
import { defineRoute, type Route } from '../route.ts';

/** A database that does not answer within this is as good as down for a health check. */
const databaseTimeoutMs = 3_000;

const health = z.object({ ok: z.boolean(), database: z.enum(['ok', 'unavailable']) }).meta({ id: 'Health' });

export function healthRoutes({ db, logger }: ApiContext): Route[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/healthz',
      summary: 'liveness and database reachability (no token)',
      scope: null,
      action: 'check health',
      responses: { 200: { description: 'healthy', schema: health }, 503: { description: 'the database does not answer', schema: health } },
      async handle({ reply }) {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            db.query('SELECT 1 AS one'),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`no answer within ${databaseTimeoutMs} ms`)), databaseTimeoutMs);
            }),
          ]);
          return { ok: true, database: 'ok' };
        } catch (err) {
          // The reason stays in the log: this endpoint answers anyone, and it would name the database.
          logger.warn({ err }, 'health check: the database does not answer');
          void reply.code(503);
          return { ok: false, database: 'unavailable' };
        } finally {
          clearTimeout(timer);
        }
      },
    }),
  ];
}
