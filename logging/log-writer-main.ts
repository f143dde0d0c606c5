// `fleetcast log-writer FILE --max BYTES --keep N`: the process that holds the read end of a
// supervised service's output pipe and writes it to FILE, rotated by size (logging/rotating-file.ts).
// The agent starts one per service process, in a process group of its own, so that the service
// and its log outlive the agent (an agent restart is no outage) and a chatty service never
// fills the disk. It exits when every process writing to the pipe is gone. bin/fleetcast.js
// runs this module without loading the rest of the command (about half the memory).
import { copyToRotatingFile } from './log-writer.ts';

export async function main(argv: string[]): Promise<void> {
  const usage = 'usage: fleetcast log-writer FILE --max BYTES --keep N   (copies stdin to FILE, rotated by size; FILE.1 … FILE.<N-1> kept)';
  if (argv.includes('--help')) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const file = argv[0];
  const max = Number(argv[argv.indexOf('--max') + 1]);
  const keep = Number(argv[argv.indexOf('--keep') + 1]);
  if (!file || file.startsWith('--') || !argv.includes('--max') || !argv.includes('--keep') || !Number.isSafeInteger(max) || max < 1 || !Number.isSafeInteger(keep) || keep < 1) {
    process.stderr.write(`${usage}\n`);
    process.exitCode = 2;
    return;
  }
  // Terminal signals are not for us: only the end of the pipe ends this process, or a
  // service's last words would be lost. (SIGTERM still works, for whoever really means it.)
  process.on('SIGINT', () => undefined);
  process.on('SIGHUP', () => undefined);
  await copyToRotatingFile(process.stdin, { file, maxBytes: max, keep });
}
