import fs from 'node:fs';

/**
 * What tells a live process apart from a later one that got the same pid: its start time in
 * clock ticks since boot (field 22 of /proc/<pid>/stat). null where /proc does not exist.
 */
export function processStartTicks(pid: number): string | null {
  const stat = readStat(pid);
  return stat ? (stat.fields[19] ?? null) : null;
}

/** Alive: it exists and is not a zombie (an orphan nobody reaped still answers kill(pid, 0)). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = readStat(pid);
  return stat === undefined || stat.state !== 'Z';
}

/** The same process as the one recorded: alive, and started at the recorded time (where that is known). */
export function isSameProcess(pid: number, startTicks: string | null): boolean {
  if (!isAlive(pid)) return false;
  if (startTicks === null) return true;
  const now = processStartTicks(pid);
  return now === null || now === startTicks;
}

/** Whether any process of the group is alive (zombies do not count where /proc tells). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.state !== 'Z' && stat.fields[2] === String(pgid)) return true;
  }
  return false;
}

/** Sends `signal` to every process of the group; false if there was none. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * /proc/<pid>/stat, split after the command name (which may hold spaces and parentheses):
 * fields[0] is the state (field 3), fields[2] the process group (field 5), fields[19] the
 * start time (field 22). undefined when the process or /proc does not exist.
 */
function readStat(pid: number): { state: string; fields: string[] } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).trim().split(' ');
  return { state: fields[0] ?? '', fields };
}
