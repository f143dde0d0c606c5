import fsp from 'node:fs/promises';
import path from 'node:path';
import { FleetcastError } from '../../errors/index.ts';
import { isSameProcess, processStartTicks } from './process-identity.ts';

/**
 * One agent per agent dir: two would both supervise (and run) every service. The lock is a
 * file naming the live agent (pid and start time); a lock whose agent died (kill -9) is taken
 * over. Taking over renames the stale file away first, so of two agents starting at once over
 * a stale lock only one wins.
 */
export class AgentLock {
  private constructor(private readonly file: string) {}

  static async acquire(file: string): Promise<AgentLock> {
    await fsp.mkdir(path.dirname(file), { recursive: true });
    const mine = JSON.stringify({ pid: process.pid, startTicks: processStartTicks(process.pid), at: new Date().toISOString() });
    for (let attempt = 1; ; attempt++) {
      const temp = `${file}.${process.pid}.tmp`;
      await fsp.writeFile(temp, mine);
      try {
        // link() fails if the lock exists: creation and content in one step.
        await fsp.link(temp, file);
        return new AgentLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw err;
      } finally {
        await fsp.rm(temp, { force: true });
      }
      const holder = await readHolder(file);
      if (holder && holder.pid !== process.pid && isSameProcess(holder.pid, holder.startTicks)) {
        throw new FleetcastError(
          'BUSY',
          `another agent (pid ${holder.pid}, since ${holder.at}) runs on ${path.dirname(file)}: stop it first, or give this one its own FLEETCAST_AGENT_DIR`,
          { pid: holder.pid, dir: path.dirname(file) },
        );
      }
      await fsp.rename(file, `${file}.stale-${process.pid}`).catch(() => undefined);
      await fsp.rm(`${file}.stale-${process.pid}`, { force: true });
    }
  }

  async release(): Promise<void> {
    const holder = await readHolder(this.file);
    if (holder?.pid === process.pid) await fsp.rm(this.file, { force: true });
  }
}

async function readHolder(file: string): Promise<{ pid: number; startTicks: string | null; at: string } | undefined> {
  try {
    const parsed = JSON.parse(await fsp.readFile(file, 'utf8')) as { pid?: unknown; startTicks?: unknown; at?: unknown };
    if (typeof parsed.pid !== 'number') return undefined;
    return { pid: parsed.pid, startTicks: typeof parsed.startTicks === 'string' ? parsed.startTicks : null, at: String(parsed.at) };
  } catch {
    return undefined;
  }
}
