import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import type { Dialect } from '../../entities/index.ts';

/** The MariaDB server tests create their databases on (ops/ensure-services.sh starts it). */
export const testMysqlUrl = process.env.FLEETCAST_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

export interface TestDatabase {
  dialect: Dialect;
  /** Give to Database.open. */
  url: string | undefined;
  sqlitePath: string | undefined;
  /** The same as environment variables, for child processes. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

/** A brand-new, empty database of the dialect, dropped by `drop()`. */
export async function freshDatabase(dialect: Dialect): Promise<TestDatabase> {
  return dialect === 'mysql' ? freshMariaDb() : freshSqlite();
}

async function freshMariaDb(): Promise<TestDatabase> {
  const name = `fleetcast_t_${randomBytes(6).toString('hex')}`;
  const admin = await connectAdmin(testMysqlUrl);
  try {
    await admin.query(`CREATE DATABASE \`${name}\``);
  } finally {
    await admin.end();
  }
  const url = new URL(testMysqlUrl);
  url.pathname = `/${name}`;
  return {
    dialect: 'mysql',
    url: url.toString(),
    sqlitePath: undefined,
    env: { FLEETCAST_DATABASE_URL: url.toString() },
    async drop() {
      const conn = await connectAdmin(testMysqlUrl);
      try {
        await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await conn.end();
      }
    },
  };
}

async function freshSqlite(): Promise<TestDatabase> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-sqlite-'));
  return {
    dialect: 'sqlite',
    url: undefined,
    sqlitePath: path.join(dir, 'fleetcast.sqlite'),
    env: { FLEETCAST_DATA_DIR: dir },
    async drop() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function connectAdmin(url: string): Promise<mysql.Connection> {
  try {
    return await mysql.createConnection({ uri: url, connectTimeout: 5_000 });
  } catch (err) {
    // A missing service is a loud failure, never a skipped test.
    throw new Error(
      `MariaDB is not reachable at ${url} (${(err as Error).message}). ` +
        'Run `bash ops/ensure-services.sh` (npm test does) or set FLEETCAST_TEST_MYSQL_URL.',
      { cause: err },
    );
  }
}

export const dialects: Dialect[] = ['mysql', 'sqlite'];
