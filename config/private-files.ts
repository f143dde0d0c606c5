import fs from 'node:fs';

/** A file or directory whose mode was narrowed, for the caller's warning. */
export interface Tightened {
  path: string;
  was: string;
  now: string;
}

/**
 * Makes a directory private to this user (0700): created so, or narrowed at start when it exists
 * wider (group or other bits set). Returns what was narrowed, for a warning; null otherwise.
 */
export function ensurePrivateDir(dir: string): Tightened | null {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return narrow(dir, 0o700);
}

/**
 * A directory others may pass through but not list or write (0711): on the path to what another
 * user must reach by name (an agent's builds, for its services' user). Created so, or set so at
 * start; returns what was narrowed (read or write bits of others removed), for a warning.
 */
export function ensureTraversableDir(dir: string): Tightened | null {
  fs.mkdirSync(dir, { recursive: true, mode: 0o711 });
  const current = fs.statSync(dir).mode & 0o777;
  if (current === 0o711) return null;
  fs.chmodSync(dir, 0o711);
  return (current & 0o066) === 0 ? null : { path: dir, was: current.toString(8).padStart(4, '0'), now: '0711' };
}

/**
 * Narrows a secret file (tokens, keys, passwords, the SQLite database) to 0600 when it exists
 * with group or other bits; a missing file is left alone. Returns what was narrowed, or null.
 */
export function tightenSecretFile(file: string): Tightened | null {
  if (!fs.existsSync(file)) return null;
  return narrow(file, 0o600);
}

function narrow(target: string, mode: number): Tightened | null {
  const current = fs.statSync(target).mode & 0o777;
  if ((current & 0o077) === 0) return null;
  fs.chmodSync(target, current & mode);
  return { path: target, was: current.toString(8).padStart(4, '0'), now: (current & mode).toString(8).padStart(4, '0') };
}
