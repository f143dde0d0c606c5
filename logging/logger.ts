import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** pino level. @defaultValue `FLEETCAST_LOG_LEVEL` or `info` */
  level?: string;
  /** Bound to every line, e.g. `{ role: 'worker', worker: 'w1' }`. */
  bindings?: Record<string, unknown>;
}

/**
 * Structured JSON logs on stderr: stdout belongs to command output (`--json` prints one
 * document there and nothing else).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.FLEETCAST_LOG_LEVEL ?? 'info';
  return pino({ level, base: { pid: process.pid, ...options.bindings } }, pino.destination(2));
}

/** A logger that drops everything, for tests and library callers that bring none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
