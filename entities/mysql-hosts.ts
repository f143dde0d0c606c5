import { FleetcastError } from '../errors/index.ts';

export interface MysqlHost {
  host: string;
  port: number;
}

/**
 * `mysql://user:pass@host1:3306,host2:3306/db?opts`: one database reached through one of several
 * servers (a primary and its replicas). The URL of one host is what TypeORM's driver takes.
 */
export class MysqlHosts {
  private constructor(
    /** Everything before the hosts, `mysql://user:pass@`. */
    private readonly prefix: string,
    readonly hosts: MysqlHost[],
    /** `/db?opts`. */
    private readonly suffix: string,
  ) {}

  static parse(url: string): MysqlHosts {
    const match = /^(mysql:\/\/(?:[^@/]*@)?)([^@/]+)(\/.*)$/.exec(url);
    if (!match) throw new FleetcastError('CONFIG_INVALID', 'the database URL must look like mysql://user:pass@host:port[,host:port…]/db');
    const hosts = match[2]!.split(',').map((part) => parseHost(part.trim()));
    return new MysqlHosts(match[1]!, hosts, match[3]!);
  }

  get several(): boolean {
    return this.hosts.length > 1;
  }

  /** The URL that reaches the database through `host` alone. */
  urlOf(host: MysqlHost): string {
    return `${this.prefix}${hostText(host)}${this.suffix}`;
  }

  /** `mysql://host:port/db`, for messages: never includes the password. */
  locationOf(host: MysqlHost): string {
    return `mysql://${hostText(host)}${this.suffix.replace(/\?.*$/, '')}`;
  }
}

export function hostText({ host, port }: MysqlHost): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function parseHost(text: string): MysqlHost {
  const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d+))?$/.exec(text);
  if (!match) throw new FleetcastError('CONFIG_INVALID', `"${text}" in the database URL is not host or host:port`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port: match[2] ? Number(match[2]) : 3306 };
}
