export type Dialect = 'mysql' | 'sqlite';

/** One SQL statement written for each dialect, side by side where it is used. */
export type DialectSql = Readonly<Record<Dialect, string>>;
