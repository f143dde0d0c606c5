import { z } from 'zod';

/** `b42` or `42`. */
export const buildIdText = z
  .string()
  .regex(/^b?[1-9]\d{0,15}$/, 'build ids look like b42')
  .meta({ description: 'a build id: b42 (or 42)' });

/** `d7` or `7`. */
export const deploymentIdText = z.string().regex(/^d?\d{1,15}$/, 'a deployment id: d7');
