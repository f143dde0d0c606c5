import { z } from 'zod';
import { errorCodes, FleetcastError, type ErrorCode } from '../errors/index.ts';

/** Every refusal of the API has this body; the CLI's `--json` prints errors the same way. */
export const errorJson = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(errorCodes) as [ErrorCode, ...ErrorCode[]]),
      message: z.string().meta({ description: 'what went wrong and what to do about it' }),
      details: z.record(z.string(), z.unknown()),
    }),
  })
  .meta({ id: 'Error' });

export type ErrorJson = z.output<typeof errorJson>;

export function toErrorJson(error: FleetcastError): ErrorJson {
  return { error: error.toJSON() };
}
