/**
 * Reads a timestamp column. MariaDB hands back Dates (UTC, the pool runs with timezone 'Z');
 * SQLite hands back text 'YYYY-MM-DD HH:MM:SS.SSS', written in UTC by strftime('now').
 */
export function fromSqlTime(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  return new Date(String(value).replace(' ', 'T') + 'Z');
}

/**
 * The inverse of fromSqlTime, for a time of this process's clock: a Date for MariaDB (the pool
 * runs in UTC), SQLite's 'YYYY-MM-DD HH:MM:SS.SSS' text otherwise.
 */
export function toSqlTime(dialect: 'mysql' | 'sqlite', at: Date): Date | string {
  return dialect === 'mysql' ? at : at.toISOString().replace('T', ' ').replace('Z', '');
}

/**
 * The parameter for a duration in the statements' time arithmetic: MariaDB's
 * `UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND` takes microseconds, SQLite's
 * `strftime('%Y-%m-%d %H:%M:%f', 'now', ?)` a signed modifier ('-30.000 seconds').
 */
export function durationParam(dialect: 'mysql' | 'sqlite', ms: number, direction: 'ago' | 'ahead' = 'ago'): number | string {
  if (dialect === 'mysql') return Math.round(ms * 1000);
  return `${direction === 'ago' ? '-' : '+'}${(ms / 1000).toFixed(3)} seconds`;
}
