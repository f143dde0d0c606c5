import type { Logger } from '../logging/index.ts';

/**
 * The environment the agent and seeder processes are started with (ops/systemd units,
 * `fleetcast up`, bench/p2p). Measured here, an agent downloading 512 MiB peaked at 239 MiB
 * (VmHWM) without them and 130–135 MiB with them, at the same speed: glibc gives each of
 * RocksDB's and libuv's threads a malloc arena of its own that keeps freed 1 MiB blocks, and V8
 * lets the young generation grow to 16 MiB semi-spaces of short-lived block buffers.
 * Both must be set before the process starts.
 */
const lowMemory = {
  MALLOC_ARENA_MAX: '1',
  NODE_OPTIONS: '--max-semi-space-size=1',
} as const;

/** The two variables to add to the environment of an agent or seeder process started from `base`. */
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
export function warnUnlessLowMemoryEnv(logger: Logger, role: 'agent' | 'seeder'): void {
  if (startedWithLowMemoryEnv()) return;
  const settings = Object.entries(lowMemory).map(([name, value]) => `${name}=${value}`).join(' and ');
  logger.warn(`this ${role} was started without ${settings} (the systemd units and fleetcast up set them): a download can take ~100 MiB more memory`);
}
