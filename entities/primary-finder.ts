import mysql from 'mysql2/promise';
import { FleetcastError } from '../errors/index.ts';
import { hostText, type MysqlHost, type MysqlHosts } from './mysql-hosts.ts';

/** How long one host may take to answer whether it is writable before the next is tried. */
const probeTimeoutMs = 2_000;

/**
 * Finds the primary among the configured MariaDB hosts: the first that answers and is writable
 * (`@@read_only = 0`). Replicas run read_only, so after a failover only the promoted one
 * qualifies; a killed primary does not answer at all.
 */
export class PrimaryFinder {
  constructor(private readonly hosts: MysqlHosts) {}

  /** Tries `first` (the current primary, if any) then the others in the configured order. */
  async find(first?: MysqlHost): Promise<MysqlHost> {
    const order = first ? [first, ...this.hosts.hosts.filter((host) => host !== first)] : this.hosts.hosts;
    const reasons: string[] = [];
    for (const host of order) {
      const reason = await this.refusal(host);
      if (reason === undefined) return host;
      reasons.push(`${hostText(host)}: ${reason}`);
    }
    throw new FleetcastError(
      'DATABASE_UNAVAILABLE',
      `no writable primary among the database hosts (${reasons.join('; ')}); fleetcast keeps trying — ` +
        'promote a replica (STOP SLAVE; SET GLOBAL read_only = 0) or start the primary',
      { hosts: this.hosts.hosts.map(hostText) },
    );
  }

  /** Why `host` cannot be the primary, or undefined when it can. */
  private async refusal(host: MysqlHost): Promise<string | undefined> {
    let conn: mysql.Connection | undefined;
    try {
      conn = await mysql.createConnection({ uri: this.hosts.urlOf(host), connectTimeout: probeTimeoutMs });
      const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT @@global.read_only AS readOnly');
      return Number(rows[0]?.readOnly) === 0 ? undefined : 'read_only (a replica)';
    } catch (err) {
      return (err as { code?: string }).code ?? (err as Error).message;
    } finally {
      await conn?.end().catch(() => conn?.destroy());
    }
  }
}
