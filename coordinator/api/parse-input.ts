import type { z } from 'zod';
import { FleetcastError } from '../../errors/index.ts';

/**
 * Validates what a client sent (body, query, path parameters) with its zod schema. Every
 * problem is reported at once, each with the field it concerns, so one retry fixes them all.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, part: 'body' | 'query' | 'path' | 'message' | 'header'): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.join('.') : part;
    return `${where}: ${issue.message}`;
  });
  throw new FleetcastError('INVALID_INPUT', `invalid request ${part}: ${problems.join('; ')}`, { part, problems });
}
