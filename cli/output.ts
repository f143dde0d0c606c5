import type { CommanderError } from 'commander';
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

/** A command line commander refused (it already wrote why on stderr): exit code 2. */
export function reportUsageError(err: CommanderError, json: boolean): number {
  if (json) {
    const error = new FleetcastError('INVALID_INPUT', err.message.replace(/^error: /, ''), { reason: err.code });
    process.stdout.write(JSON.stringify({ error: error.toJSON() }, null, 2) + '\n');
  }
  return 2;
}
