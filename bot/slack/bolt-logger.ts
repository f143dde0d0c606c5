import { LogLevel, type Logger as SlackLogger } from '@slack/bolt';
import type { Logger } from '../../logging/index.ts';

/**
 * Bolt's and the Slack clients' logging into the bot's pino logger (JSON on stderr, with the
 * level FLEETCAST_LOG_LEVEL gives): their messages are strings, kept as `msg`.
 */
export class BoltLogger implements SlackLogger {
  private level = LogLevel.INFO;
  private logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger.child({ component: 'slack' });
  }

  debug(...msg: unknown[]): void {
    this.logger.debug(text(msg));
  }

  info(...msg: unknown[]): void {
    this.logger.info(text(msg));
  }

  warn(...msg: unknown[]): void {
    this.logger.warn(text(msg));
  }

  error(...msg: unknown[]): void {
    const err = msg.find((m) => m instanceof Error);
    this.logger.error(err ? { err } : {}, text(msg.filter((m) => m !== err)));
  }

  // pino decides what is written; these only keep the interface's contract.
  setLevel(level: LogLevel): void {
    this.level = level;
  }

  getLevel(): LogLevel {
    return this.level;
  }

  setName(name: string): void {
    this.logger = this.logger.child({ name });
  }
}

function text(parts: unknown[]): string {
  return parts.map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join(' ');
}
