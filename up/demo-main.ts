import { createLogger } from '../logging/index.ts';
import { runDemo, summaryTable } from './demo.ts';

/** `fleetcast demo`: the story, step by step on stdout, a summary table at the end; exit 0 when it all worked. */
export async function main(options: { dir?: string; keep?: boolean; regions?: string; agents?: string }): Promise<void> {
  const say = (line: string) => process.stdout.write(line + '\n');
  // The installation's own processes log to <dir>/logs; this one only says what goes wrong.
  const logger = createLogger({ level: process.env.FLEETCAST_LOG_LEVEL ?? 'warn', bindings: { role: 'demo' } });
  say('fleetcast demo: the whole system on this machine, on embedded defaults (SQLite, bucket folders, private NATS servers)');
  const summary = await runDemo({
    ...(options.dir ? { dir: options.dir } : {}),
    keep: options.keep === true,
    // With --keep the installation stays up for the dashboard until Ctrl-C (or SIGTERM).
    untilStopped: () => new Promise<void>((resolve) => (process.once('SIGINT', () => resolve()), process.once('SIGTERM', () => resolve()))),
    ...(options.regions ? { regions: options.regions.split(',').map((r) => r.trim()).filter(Boolean) } : {}),
    ...(options.agents ? { agentsPerRegion: Number(options.agents) } : {}),
    say,
    logger,
  });
  say('\nsummary');
  say(summaryTable(summary));
  say(options.dir || options.keep ? `\neverything is in ${summary.dir}` : '\ndone; the temporary installation was removed (--keep keeps it)');
}
