/**
 * Reads a timestamp column. MariaDB hands back Dates (UTC, the pool runs with timezone 'Z');
 * SQLite hands back text 'YYYY-MM-DD HH:MM:SS.SSS', written in UTC by strftime('now').
 */
export function fromSqlTime(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  return new Date(String(value).replace(' ', 'T') + 'Z');
}
