import fs from 'node:fs';
import path from 'node:path';
import { DataSource, type QueryRunner } from 'typeorm';
import { FleetcastError } from '../errors/index.ts';
import { silentLogger, type Logger } from '../logging/index.ts';
import { isConnectionLoss, toDatabaseError } from './database-errors.ts';
import type { Dialect, DialectSql } from './dialect.ts';
import { migrations } from './migrations/index.ts';
import { hostText, MysqlHosts, type MysqlHost } from './mysql-hosts.ts';
import { PrimaryFinder } from './primary-finder.ts';

export interface DatabaseOptions {
  /**
   * `mysql://user:pass@host:port/db`. When absent, the embedded SQLite file is used. Several
   * hosts (`host1:3306,host2:3306`) are a primary and its replicas: the first writable one is
   * used, and on connection loss the hosts are tried again for the (promoted) writable one.
   */
  url?: string | undefined;
  /** The SQLite file, used when no `url` is given. */
  sqlitePath?: string;
  /** Connections in the MariaDB pool. @defaultValue 10 */
  poolSize?: number;
  /** Run pending migrations on open. @defaultValue true */
  migrate?: boolean;
  logger?: Logger;
}

export interface ExecResult {
  affected: number;
  insertId: number;
}

/** What runs SQL: the database itself, or one transaction of it. */
export interface SqlRunner {
  readonly dialect: Dialect;
  query<Row = Record<string, unknown>>(sql: string | DialectSql, params?: unknown[]): Promise<Row[]>;
  execute(sql: string | DialectSql, params?: unknown[]): Promise<ExecResult>;
}

export type IsolationLevel = 'READ COMMITTED' | 'SERIALIZABLE';

const migrationsTable = 'fleetcast_migrations';

/** Where the embedded SQLite database lives inside a data directory. */
export function defaultSqlitePath(dataDir: string): string {
  return path.join(dataDir, 'fleetcast.sqlite');
}
const mysqlMigrationLock = 'fleetcast_migrations';

/** With several MariaDB hosts configured: which of them is the primary now, and how to find the next. */
interface Failover {
  hosts: MysqlHosts;
  finder: PrimaryFinder;
  primary: MysqlHost;
  poolSize: number;
}

/**
 * The SQL database behind the coordinator and the workers: MariaDB/MySQL in production,
 * SQLite when none is configured. Statements are plain SQL; TypeORM supplies the drivers,
 * the pool, the entities and the migrations.
 */
export class Database implements SqlRunner {
  /** SQLite: the tail of the queue of operations waiting for the one connection. */
  private sqliteTurn: Promise<void> = Promise.resolve();
  /** The search for a new primary under way (one at a time, shared by every failing caller). */
  private failingOver: Promise<void> | undefined;
  /** Pools of former primaries being closed. */
  private readonly retiring: Promise<void>[] = [];

  private constructor(
    private current: DataSource,
    readonly dialect: Dialect,
    /** Where the database is, for messages (never includes a password). */
    private currentLocation: string,
    private readonly logger: Logger,
    private readonly failover?: Failover,
  ) {}

  /** The pool of the current primary; replaced when the database fails over to another host. */
  get dataSource(): DataSource {
    return this.current;
  }

  /** Where the database is, for messages (never includes a password). */
  get location(): string {
    return this.currentLocation;
  }

  static async open(options: DatabaseOptions): Promise<Database> {
    const logger = options.logger ?? silentLogger();
    const hosts = options.url ? MysqlHosts.parse(options.url) : undefined;
    let failover: Failover | undefined;
    let url = options.url;
    if (hosts?.several) {
      const finder = new PrimaryFinder(hosts);
      const primary = await finder.find();
      failover = { hosts, finder, primary, poolSize: options.poolSize ?? 10 };
      url = hosts.urlOf(primary);
      logger.info({ database: hosts.locationOf(primary), hosts: hosts.hosts.map(hostText) }, 'database primary chosen');
    }
    const { dataSource, dialect, location } = createDataSource({ ...options, url });
    try {
      await dataSource.initialize();
    } catch (err) {
      throw toDatabaseError(err, location);
    }
    const database = new Database(dataSource, dialect, location, logger, failover);
    try {
      await database.refuseNewerSchema();
      if (options.migrate ?? true) {
        const applied = await database.migrate();
        for (const name of applied) logger.info({ migration: name, database: location }, 'applied migration');
      }
    } catch (err) {
      await dataSource.destroy();
      throw toDatabaseError(err, location);
    }
    return database;
  }

  async query<Row = Record<string, unknown>>(sql: string | DialectSql, params: unknown[] = []): Promise<Row[]> {
    return this.withRunner((runner) => runQuery<Row>(runner, this.dialect, sql, params));
  }

  async execute(sql: string | DialectSql, params: unknown[] = []): Promise<ExecResult> {
    return this.withRunner((runner) => runExecute(runner, this.dialect, sql, params));
  }

  /**
   * Runs `work` in one transaction. On MariaDB at the given isolation level (READ COMMITTED
   * for the queue: no gap locks); SQLite has one writer at a time and starts with
   * BEGIN IMMEDIATE so that a transaction never fails half-way on a lock upgrade.
   */
  async transaction<T>(work: (tx: SqlRunner) => Promise<T>, isolation: IsolationLevel = 'READ COMMITTED'): Promise<T> {
    return this.withRunner(async (runner) => {
      if (this.dialect === 'mysql') await runner.startTransaction(isolation);
      else await runner.query('BEGIN IMMEDIATE');
      const tx: SqlRunner = {
        dialect: this.dialect,
        query: (sql, params = []) => runQuery(runner, this.dialect, sql, params),
        execute: (sql, params = []) => runExecute(runner, this.dialect, sql, params),
      };
      try {
        const result = await work(tx);
        if (this.dialect === 'mysql') await runner.commitTransaction();
        else await runner.query('COMMIT');
        return result;
      } catch (err) {
        // The connection may be gone with the server; the transaction then died with it.
        if (this.dialect === 'mysql') await runner.rollbackTransaction().catch(() => undefined);
        else await runner.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  /**
   * MariaDB only: sends several statements in one round trip on one connection and returns
   * each statement's result. If any fails, an open transaction is rolled back before the
   * connection goes back to the pool.
   */
  async batch(sql: string, params: unknown[] = []): Promise<unknown[]> {
    if (this.dialect !== 'mysql') throw new Error('batch() is for MariaDB; SQLite runs one statement at a time');
    return this.withRunner(async (runner) => {
      try {
        const result = await runner.query(sql, params, true);
        return result.records ?? [];
      } catch (err) {
        await runner.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    await this.failingOver;
    if (this.current.isInitialized) await this.current.destroy();
    await Promise.all(this.retiring);
  }

  /**
   * Several hosts configured and the connection lost: looks for the writable host among them
   * (the current one first) and moves the pool there. The failed call is not repeated — it may
   * have committed — its caller retries as it does for any DATABASE_UNAVAILABLE.
   */
  private failOver(): void {
    if (!this.failover || this.failingOver) return;
    this.failingOver = this.switchPrimary(this.failover)
      .catch((err: unknown) => this.logger.warn({ err, database: this.location }, 'database primary not found yet'))
      .finally(() => (this.failingOver = undefined));
  }

  private async switchPrimary(failover: Failover): Promise<void> {
    const primary = await failover.finder.find(failover.primary);
    if (primary === failover.primary) return;
    const url = failover.hosts.urlOf(primary);
    const { dataSource, location } = createDataSource({ url, poolSize: failover.poolSize });
    await dataSource.initialize();
    const former = this.current;
    const formerLocation = this.currentLocation;
    this.current = dataSource;
    this.currentLocation = location;
    failover.primary = primary;
    this.logger.warn({ database: location, former: formerLocation }, 'database failed over to a new primary');
    // A dead host's connections may never answer a goodbye: closing it must not hold close() forever.
    this.retiring.push(Promise.race([former.destroy().catch(() => undefined), sleepMs(5_000)]));
  }

  /** Names of the migrations applied to this database, in order. */
  async appliedMigrations(): Promise<string[]> {
    const tables = await this.query<{ name: string }>(
      {
        mysql: `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?`,
        sqlite: `SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?`,
      },
      [migrationsTable],
    );
    if (tables.length === 0) return [];
    const rows = await this.query<{ name: string }>(`SELECT name FROM ${migrationsTable} ORDER BY id`);
    return rows.map((row) => row.name);
  }

  private async withRunner<T>(work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    if (this.dialect === 'sqlite') return this.takeSqliteTurn(() => this.onRunner(work));
    return this.onRunner(work);
  }

  /**
   * SQLite has one connection per process, shared by every caller. A transaction spans awaits,
   * so without turns another caller's statement would run inside it (or its BEGIN would fail).
   */
  private async takeSqliteTurn<T>(work: () => Promise<T>): Promise<T> {
    const previous = this.sqliteTurn;
    let done!: () => void;
    this.sqliteTurn = new Promise((resolve) => (done = resolve));
    await previous;
    try {
      return await work();
    } finally {
      done();
    }
  }

  private async onRunner<T>(work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    let runner: QueryRunner | undefined;
    try {
      runner = this.dataSource.createQueryRunner();
      return await work(runner);
    } catch (err) {
      if (isConnectionLoss(err)) this.failOver();
      throw toDatabaseError(err, this.location);
    } finally {
      await runner?.release().catch(() => undefined);
    }
  }

  // graphile-worker's rule: a binary never runs against a schema it does not understand.
  private async refuseNewerSchema(): Promise<void> {
    const known = new Set(migrations.map((migration) => new migration().name));
    const unknown = (await this.appliedMigrations()).filter((name) => !known.has(name));
    if (unknown.length > 0) {
      throw new FleetcastError(
        'DATABASE_TOO_NEW',
        `the database at ${this.location} has migrations this fleetcast does not know (${unknown.join(', ')}); ` +
          'it was upgraded by a newer fleetcast — upgrade this one before starting it',
        { unknown },
      );
    }
  }

  /** Applies pending migrations while holding a lock, so processes starting together migrate once. */
  private async migrate(): Promise<string[]> {
    const runner = this.dataSource.createQueryRunner();
    try {
      if (this.dialect === 'mysql') {
        const [lock] = await runner.query(`SELECT GET_LOCK(?, 60) AS locked`, [mysqlMigrationLock]);
        if (Number(lock.locked) !== 1) {
          throw new FleetcastError('DATABASE_UNAVAILABLE', `waited 60 s for another process migrating ${this.location}; try again`);
        }
        try {
          const applied = await this.dataSource.runMigrations({ transaction: 'each' });
          return applied.map((migration) => migration.name);
        } finally {
          await runner.query(`SELECT RELEASE_LOCK(?)`, [mysqlMigrationLock]);
        }
      }
      // SQLite: one connection; an immediate transaction around the whole run is the lock.
      await runner.query('BEGIN IMMEDIATE');
      try {
        const applied = await this.dataSource.runMigrations({ transaction: 'none' });
        await runner.query('COMMIT');
        return applied.map((migration) => migration.name);
      } catch (err) {
        await runner.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    } finally {
      await runner.release();
    }
  }
}

function createDataSource(options: DatabaseOptions): { dataSource: DataSource; dialect: Dialect; location: string } {
  const common = {
    migrations,
    migrationsTableName: migrationsTable,
    logging: false,
  };
  if (options.url) {
    const hosts = MysqlHosts.parse(options.url);
    const location = hosts.locationOf(hosts.hosts[0]!);
    const dataSource = new DataSource({
      ...common,
      type: 'mysql',
      url: options.url,
      timezone: 'Z',
      poolSize: options.poolSize ?? 10,
      connectTimeout: 5_000,
      // For batch(): the queue's claim is one round trip. Every statement uses placeholders.
      multipleStatements: true,
      extra: { enableKeepAlive: true },
    });
    return { dataSource, dialect: 'mysql', location };
  }
  if (!options.sqlitePath) {
    throw new FleetcastError('CONFIG_INVALID', 'no database configured: set FLEETCAST_DATABASE_URL or a data directory');
  }
  fs.mkdirSync(path.dirname(options.sqlitePath), { recursive: true });
  const dataSource = new DataSource({
    ...common,
    type: 'better-sqlite3',
    database: options.sqlitePath,
    enableWAL: true,
    // WAL's usual NORMAL may lose the newest commits (a deployment, an audit row) on power loss;
    // FULL syncs the log on every commit. better-sqlite3 runs this on each new connection.
    prepareDatabase: (connection: { pragma(source: string): unknown }) => {
      connection.pragma('synchronous = FULL');
    },
    // Several processes (coordinator, workers) may share the file: wait for the writer.
    timeout: 15_000,
  });
  return { dataSource, dialect: 'sqlite', location: options.sqlitePath };
}

async function runQuery<Row>(runner: QueryRunner, dialect: Dialect, sql: string | DialectSql, params: unknown[]): Promise<Row[]> {
  const result = await runner.query(pick(sql, dialect), params, true);
  return (result.records ?? []) as Row[];
}

async function runExecute(runner: QueryRunner, dialect: Dialect, sql: string | DialectSql, params: unknown[]): Promise<ExecResult> {
  const result = await runner.query(pick(sql, dialect), params, true);
  const insertId = dialect === 'mysql' ? (result.raw as { insertId?: number }).insertId : result.raw;
  return { affected: result.affected ?? 0, insertId: Number(insertId ?? 0) };
}

function pick(sql: string | DialectSql, dialect: Dialect): string {
  return typeof sql === 'string' ? sql : sql[dialect];
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
