import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';

/**
 * A MariaDB server of the test's own (own data dir, own port), for tests that kill or restart
 * the database: the shared server on 3306 serves every other test and must stay up.
 */
export interface PrivateMariaDbOptions {
  /** More mariadbd options (replication: server id, binlog, semi-sync). */
  serverArgs?: string[];
  /** Create the `fleetcast` database. A replica gets it from its primary instead. @defaultValue true */
  createDatabase?: boolean;
}

export class PrivateMariaDb {
  private process: ChildProcess | undefined;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly serverArgs: string[] = [],
  ) {}

  get url(): string {
    return `mysql://root@127.0.0.1:${this.port}/fleetcast`;
  }

  static async start(options: PrivateMariaDbOptions = {}): Promise<PrivateMariaDb> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-mariadb-'));
    const install = spawnSync(
      'mariadb-install-db',
      ['--no-defaults', `--datadir=${dir}/data`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'],
      { encoding: 'utf8' },
    );
    if (install.status !== 0) {
      throw new Error(`mariadb-install-db failed (is mariadb-server installed? run bash ops/ensure-services.sh):\n${install.stderr}${install.error ?? ''}`);
    }
    const server = new PrivateMariaDb(dir, await freePort(), options.serverArgs);
    await server.startServer();
    if (options.createDatabase ?? true) {
      const conn = await server.connect();
      await conn.query('CREATE DATABASE fleetcast');
      await conn.end();
    }
    return server;
  }

  /** A root connection (over TCP, no password: the private server's own root). */
  async connect(): Promise<mysql.Connection> {
    return mysql.createConnection({ host: '127.0.0.1', port: this.port, user: 'root' });
  }

  /** Starts the server on its data dir again (after kill9) and waits until it answers. */
  async startServer(): Promise<void> {
    const child = spawn(
      'mariadbd',
      [
        '--no-defaults',
        `--datadir=${this.dir}/data`,
        '--user=root',
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        `--socket=${this.dir}/mysqld.sock`,
        `--pid-file=${this.dir}/mysqld.pid`,
        `--log-error=${this.dir}/error.log`,
        '--innodb-buffer-pool-size=32M',
        '--skip-name-resolve',
        ...this.serverArgs,
      ],
      { stdio: 'ignore' },
    );
    this.process = child;
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const conn = await mysql.createConnection({ host: '127.0.0.1', port: this.port, user: 'root', connectTimeout: 1_000 });
        await conn.end();
        return;
      } catch (err) {
        if (child.exitCode !== null || Date.now() > deadline) {
          const log = fs.existsSync(`${this.dir}/error.log`) ? fs.readFileSync(`${this.dir}/error.log`, 'utf8').slice(-2_000) : '';
          throw new Error(`private mariadbd did not come up on port ${this.port}: ${(err as Error).message}\n${log}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** kill -9: the crash the database must survive. */
  async kill9(): Promise<void> {
    const child = this.process;
    // A process killed by a signal has a signalCode and no exitCode: it is gone all the same.
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.kill9();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
