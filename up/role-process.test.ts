// A role of `fleetcast up` with a chatty process: its log is rotated by size, the ready line is
// still found, and the last words of a stopped process reach the log.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../logging/index.ts';
import { RotatingFile } from '../logging/rotating-file.ts';
import { RoleProcess } from './role-process.ts';

let dir: string;
const roles: RoleProcess[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-role-'));
});

afterEach(async () => {
  for (const role of roles.splice(0)) await role.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

// Prints 20 MB of log lines, then its ready line, then ticks; says goodbye on SIGTERM.
const chatty = `
  const line = JSON.stringify({ level: 30, pid: process.pid, msg: 'x'.repeat(200) }) + '\\n';
  let left = 100_000;
  const pump = () => {
    while (left > 0) { left--; if (!process.stdout.write(line)) return process.stdout.once('drain', pump); }
    process.stderr.write(JSON.stringify({ level: 30, pid: process.pid, msg: 'worker ready' }) + '\\n');
    setInterval(() => process.stdout.write('tick\\n'), 20);
  };
  process.on('SIGTERM', () => { process.stdout.write('last words\\n'); process.exit(0); });
  pump();
`;

describe('RoleProcess logs', () => {
  it("rotates a chatty role's log by size, still sees it ready, and keeps its last words", async () => {
    const log = { maxBytes: 2 << 20, keep: 3 };
    const role = new RoleProcess({ name: 'worker-1', role: 'worker', args: [], env: {} }, { logDir: dir, logger: silentLogger(), log, command: [process.execPath, '-e', chatty] });
    roles.push(role);
    role.start();
    const deadline = Date.now() + 60_000;
    while (!(await role.checkReady())) {
      if (Date.now() > deadline) throw new Error('the role never said it was ready');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const files = RotatingFile.files(role.logFile, log.keep);
    expect(files).toEqual([role.logFile, `${role.logFile}.1`, `${role.logFile}.2`]);
    expect(files.reduce((sum, f) => sum + fs.statSync(f).size, 0)).toBeLessThanOrEqual(log.keep * log.maxBytes);
    await role.stop();
    expect(fs.readFileSync(role.logFile, 'utf8').endsWith('last words\n')).toBe(true);
  }, 90_000);
});
