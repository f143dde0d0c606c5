import { FleetcastError, errorCodes } from '../errors/index.ts';

/** `--json` prints exactly one JSON document on stdout; otherwise text for people. */
export function printResult(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : text() + '\n');
}

/** Prints an error the way the command was asked to talk, and returns the exit code for it. */
export function reportError(err: unknown, json: boolean): number {
  const error =
    err instanceof FleetcastError
      ? err
      : new FleetcastError('INTERNAL', `unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  if (json) process.stdout.write(JSON.stringify({ error: error.toJSON() }, null, 2) + '\n');
  else process.stderr.write(`fleetcast: ${error.message}\n`);
  return errorCodes[error.code].exitCode;
}
