import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import { projectFile } from '../lifecycle/project-files.ts';
import type { RotatingFileOptions } from './rotating-file.ts';

export interface LogWriterProcess {
  /** The write end of the pipe: give it to the process whose output is logged, then close this side's copy. */
  input: Writable;
  process: ChildProcess;
}

/**
 * Starts `fleetcast log-writer` (log-writer-main.ts) reading a pipe and writing `file`, rotated
 * by size, in a process group of its own and not tied to this process: it lives exactly as
 * long as someone holds the pipe's write end, so a detached service keeps a bounded log after
 * the process that started it is gone. About 60 MB of memory (one Node process).
 */
export function startLogWriter(options: RotatingFileOptions): LogWriterProcess {
  // Nothing of fleetcast's settings (FLEETCAST_NATS_URL may carry a password; FLEETCAST_EXIT_WITH_PARENT
  // would tie it to its parent), except how to run the sources.
  const env = Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined && (!entry[0].startsWith('FLEETCAST_') || entry[0] === 'FLEETCAST_TS_LOADER')),
  );
  const child = spawn(process.execPath, [projectFile('bin', 'fleetcast.js'), 'log-writer', options.file, '--max', String(options.maxBytes), '--keep', String(options.keep)], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
    env,
  });
  child.once('error', () => undefined); // ends in 'exit' too; the service then gets EPIPE and is restarted
  child.unref();
  return { input: child.stdin!, process: child };
}
