import { expect, it } from 'vitest';
import { MysqlHosts } from './mysql-hosts.ts';

it('reads one host or several, with default ports, and gives each its own URL without leaking the password in locations', () => {
  const hosts = MysqlHosts.parse('mysql://app:p%40ss@db-a:3307,db-b,[::1]:3308/fleet?charset=utf8mb4');
  expect(hosts.hosts).toEqual([
    { host: 'db-a', port: 3307 },
    { host: 'db-b', port: 3306 },
    { host: '::1', port: 3308 },
  ]);
  expect(hosts.several).toBe(true);
  expect(hosts.urlOf(hosts.hosts[1]!)).toBe('mysql://app:p%40ss@db-b:3306/fleet?charset=utf8mb4');
  expect(hosts.locationOf(hosts.hosts[2]!)).toBe('mysql://[::1]:3308/fleet');
  expect(MysqlHosts.parse('mysql://root@127.0.0.1:3306/test').several).toBe(false);
});

it('refuses a host list it cannot read, naming the part', () => {
  expect(() => MysqlHosts.parse('mysql://app@db-a:x,db-b/fleet')).toThrow(/"db-a:x" in the database URL is not host or host:port/);
  expect(() => MysqlHosts.parse('postgres://db/fleet')).toThrow(/mysql:\/\/user:pass@host:port\[,host:port…\]\/db/);
});
