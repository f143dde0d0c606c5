// The audit spool as the coordinator uses it while SQL is down, against a real SQLite database:
// a damaged spool file is moved aside and the records after it still reach SQL.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Database } from '../../entities/index.ts';
import { silentLogger } from '../../logging/index.ts';
import { freshDatabase, type TestDatabase } from '../../test/support/databases.ts';
import { AuditSpool } from './audit-spool.ts';
import { selectAudit } from './sql/deploy-sql.ts';

let testDb: TestDatabase;
let db: Database;
let dir: string;

beforeEach(async () => {
  testDb = await freshDatabase('sqlite');
  db = await Database.open({ url: testDb.url, sqlitePath: testDb.sqlitePath });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-spool-'));
});

afterEach(async () => {
  await db.close();
  await testDb.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const record = (actor: string) => ({ audit: { at: new Date().toISOString(), actor, action: 'lock', target: 'api', result: 'ok' as const, detail: {} } });

it('moves an unreadable spool file aside, and the records before and after it still land', async () => {
  const spool = new AuditSpool(path.join(dir, 'pending-audit'), silentLogger());
  spool.write(record('before'));
  // A torn write from an older version, or a disk error: half a JSON document, between two good files.
  const torn = `${Date.now().toString().padStart(15, '0')}-torn.json`;
  fs.writeFileSync(path.join(dir, 'pending-audit', torn), '{"audit": {"actor": "tor');
  await new Promise((resolve) => setTimeout(resolve, 5));
  spool.write(record('after'));

  expect(await spool.flush(db)).toBe(2);
  expect((await selectAudit(db, 'api')).map((row) => row.actor)).toEqual(['before', 'after']);
  expect(spool.pending()).toEqual([]);
  expect(fs.readdirSync(path.join(dir, 'pending-audit'))).toEqual([`${torn}.unreadable`]);
  // Later flushes are not held up by it either.
  spool.write(record('later'));
  expect(await spool.flush(db)).toBe(1);
  expect((await selectAudit(db, 'api')).map((row) => row.actor)).toEqual(['before', 'after', 'later']);
});

it('keeps the spool directory private (0700) and each record 0600', () => {
  const spool = new AuditSpool(path.join(dir, 'pending-audit'), silentLogger());
  const name = spool.write(record('someone'));
  expect(fs.statSync(path.join(dir, 'pending-audit')).mode & 0o777).toBe(0o700);
  expect(fs.statSync(path.join(dir, 'pending-audit', name)).mode & 0o777).toBe(0o600);
});
