import type { Logger } from '../logging/index.ts';

/**
 * The environment every fleetcast role is started with (ops/systemd units, `fleetcast up`, the
 * benchmarks). Measured here, an agent downloading 512 MiB peaked at 239 MiB
 * (VmHWM) without them and 130–135 MiB with them, at the same speed: glibc gives each of
 * RocksDB's and libuv's threads a malloc arena of its own that keeps freed 1 MiB blocks, and V8
 * lets the young generation grow to 16 MiB semi-spaces of short-lived block buffers. Node 24's
 * V8 sizes the young generation larger still: a builder worker uploading 1 GiB peaked at
 * 187/211 MiB (fs/GCS store) against 147/167 on Node 20, and at 121/132 MiB with these settings.
 * Both must be set before the process starts (v8.setFlagsFromString at run time changes nothing).
 */
const lowMemory = {
  MALLOC_ARENA_MAX: '1',
  NODE_OPTIONS: '--max-semi-space-size=1',
} as const;

/** The two variables to add to the environment of a role's process started from `base`. */
export function lowMemoryEnv(base: NodeJS.ProcessEnv = process.env): { MALLOC_ARENA_MAX: string; NODE_OPTIONS: string } {
  return {
    MALLOC_ARENA_MAX: base.MALLOC_ARENA_MAX ?? lowMemory.MALLOC_ARENA_MAX,
    NODE_OPTIONS: [base.NODE_OPTIONS, lowMemory.NODE_OPTIONS].filter(Boolean).join(' '),
  };
}

/** Whether this process was started with them (the agent and seeder say so at start when not). */
export function startedWithLowMemoryEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.MALLOC_ARENA_MAX !== undefined && (env.NODE_OPTIONS ?? '').includes('--max-semi-space-size');
}

/** A start-up warning for a process started without lowMemoryEnv. */
export function warnUnlessLowMemoryEnv(logger: Logger, role: 'agent' | 'seeder' | 'worker'): void {
  if (startedWithLowMemoryEnv()) return;
  const settings = Object.entries(lowMemory).map(([name, value]) => `${name}=${value}`).join(' and ');
  logger.warn(`this ${role} was started without ${settings} (the systemd units and fleetcast up set them): a download or a build's upload can take ~40–100 MiB more memory`);
}
