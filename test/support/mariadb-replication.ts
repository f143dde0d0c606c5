import type mysql from 'mysql2/promise';
import { PrivateMariaDb } from './private-mariadb.ts';

const replicationUser = { name: 'repl', password: 'repl-pass-test' };
/** The application's user: no SUPER / READ_ONLY ADMIN, so read_only really refuses its writes. */
const appUser = { name: 'fleetcast', password: 'fleetcast-pass-test' };
/** A commit waits this long for the replica's acknowledgement before the primary gives up on semi-sync. */
const semiSyncTimeoutMs = 60_000;

/**
 * A primary and a replica of the test's own: GTID replication, semi-synchronous (a commit is
 * acknowledged to the client only once the replica has it in its relay log), the replica
 * read_only. `url` names both hosts, the primary first, as an installation configures fleetcast.
 */
export class MariaDbReplicaPair {
  private constructor(
    readonly primary: PrivateMariaDb,
    readonly replica: PrivateMariaDb,
  ) {}

  get url(): string {
    return `mysql://${appUser.name}:${appUser.password}@127.0.0.1:${this.primary.port},127.0.0.1:${this.replica.port}/fleetcast`;
  }

  static async start(): Promise<MariaDbReplicaPair> {
    const common = ['--log-bin=mariadb-bin', '--binlog-format=ROW', '--log-slave-updates', '--gtid-strict-mode=ON'];
    const primary = await PrivateMariaDb.start({
      serverArgs: [...common, '--server-id=1', '--rpl-semi-sync-master-enabled=ON', `--rpl-semi-sync-master-timeout=${semiSyncTimeoutMs}`],
    });
    let replica: PrivateMariaDb | undefined;
    try {
      replica = await PrivateMariaDb.start({
        createDatabase: false,
        serverArgs: [...common, '--server-id=2', '--read-only=ON', '--rpl-semi-sync-slave-enabled=ON'],
      });
      const pair = new MariaDbReplicaPair(primary, replica);
      await pair.link();
      return pair;
    } catch (err) {
      await replica?.destroy();
      await primary.destroy();
      throw err;
    }
  }

  /** Semi-sync counters of the primary: commits acknowledged by the replica, and those that were not. */
  async semiSyncCounts(): Promise<{ clients: number; yesTx: number; noTx: number }> {
    const status = await onServer(this.primary, async (conn) => {
      const [rows] = await conn.query<mysql.RowDataPacket[]>(`SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_%'`);
      return new Map(rows.map((row) => [String(row.Variable_name), Number(row.Value)]));
    });
    return {
      clients: status.get('Rpl_semi_sync_master_clients') ?? 0,
      yesTx: status.get('Rpl_semi_sync_master_yes_tx') ?? 0,
      noTx: status.get('Rpl_semi_sync_master_no_tx') ?? 0,
    };
  }

  /**
   * What an operator (or a failover proxy) does once the primary is dead: let the replica apply
   * everything it received (semi-sync guarantees it received every acknowledged commit), stop
   * replicating, and make it writable.
   */
  async promoteReplica(): Promise<void> {
    await onServer(this.replica, async (conn) => {
      await conn.query('STOP SLAVE IO_THREAD');
      const [[status]] = await conn.query<mysql.RowDataPacket[]>('SHOW SLAVE STATUS');
      const [[waited]] = await conn.query<mysql.RowDataPacket[]>('SELECT MASTER_GTID_WAIT(?, 30) AS result', [status!.Gtid_IO_Pos]);
      if (Number(waited!.result) !== 0) throw new Error(`the replica did not apply its relay log up to ${status!.Gtid_IO_Pos} in 30 s`);
      await conn.query('STOP SLAVE');
      await conn.query('RESET SLAVE ALL');
      await conn.query('SET GLOBAL read_only = 0');
    });
  }

  async destroy(): Promise<void> {
    await this.primary.destroy();
    await this.replica.destroy();
  }

  private async link(): Promise<void> {
    await onServer(this.primary, async (conn) => {
      await conn.query(`CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?`, [replicationUser.name, replicationUser.password]);
      await conn.query(`GRANT REPLICATION SLAVE ON *.* TO ?@'127.0.0.1'`, [replicationUser.name]);
      await conn.query(`CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?`, [appUser.name, appUser.password]);
      await conn.query(`GRANT ALL PRIVILEGES ON fleetcast.* TO ?@'127.0.0.1'`, [appUser.name]);
    });
    await onServer(this.replica, async (conn) => {
      // From the start of the primary's binary log: the database and the users come with it.
      await conn.query(
        `CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ?, MASTER_USER = ?, MASTER_PASSWORD = ?, MASTER_USE_GTID = slave_pos`,
        [this.primary.port, replicationUser.name, replicationUser.password],
      );
      await conn.query('START SLAVE');
    });
    const deadline = Date.now() + 30_000;
    while ((await this.semiSyncCounts()).clients < 1) {
      if (Date.now() > deadline) throw new Error('the replica did not connect to the primary as a semi-sync replica in 30 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function onServer<T>(server: PrivateMariaDb, work: (conn: mysql.Connection) => Promise<T>): Promise<T> {
  const conn = await server.connect();
  try {
    return await work(conn);
  } finally {
    await conn.end();
  }
}
