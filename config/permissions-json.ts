import fs from 'node:fs';
import { FleetcastError } from '../errors/index.ts';

/** The refusal of a FLEETCAST_PERMISSIONS file, naming it: a mistake stops the process at start. */
export function permissionsFileError(file: string, problem: string, details: Record<string, unknown> = {}): FleetcastError {
  return new FleetcastError('CONFIG_INVALID', `FLEETCAST_PERMISSIONS file ${file}: ${problem}`, { file, ...details });
}

/**
 * The JSON of the permissions file (FLEETCAST_PERMISSIONS), which the coordinator (API tokens)
 * and the bot (Slack grants) both read, each checking its own part.
 */
export function readPermissionsJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw permissionsFileError(file, `cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw permissionsFileError(file, `not valid JSON (${(err as Error).message})`);
  }
}
