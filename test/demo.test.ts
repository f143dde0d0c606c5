// `fleetcast demo`, the README's first command, as a new user runs it: it exits 0, prints every
// phase and a summary where the agents got their bytes from peers, and leaves nothing behind.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { spawnTs } from './support/processes.ts';

it('runs the story end to end and exits 0 with a summary, leaving no process and no directory', async () => {
  const before = new Set(fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith('fleetcast-demo-')));
  const demo = spawnTs('bin/fleetcast.js', {}, ['demo', '--regions', 'eu,us', '--agents', '2']);
  const timer = setTimeout(() => demo.kill('SIGKILL'), 240_000);
  const { code } = await demo.exited;
  clearTimeout(timer);
  const output = demo.stderr.join('\n'); // spawnTs keeps non-JSON stdout lines here, marked (stdout)
  expect(code, output).toBe(0);
  for (const phase of ['start the installation', 'build commit 1', 'replicate to every region', 'deploy 1 everywhere', 'build commit 2', 'deploy 2 everywhere', 'roll back to 1']) {
    expect(output, phase).toContain(`✓ ${phase}`);
  }
  // The dashboard's address and the token to sign in with, printed while it runs.
  expect(output).toMatch(/dashboard: https?:\/\/127\.0\.0\.1:\d+\/dashboard\/ \(sign in with the token \S{16,}; /);
  expect(output).toMatch(/d1: 4 machines run b1 in eu, us/);
  expect(output).toMatch(/d3: 4 machines run b1 in eu, us/);
  const bytes = /bytes the agents fetched: (.+) from peers, (.+) from the regional buckets/.exec(output);
  expect(bytes, output).not.toBeNull();
  expect(bytes![1]).not.toBe('0 B');
  // Its temporary installation is gone, and so is every process it started.
  const left = fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith('fleetcast-demo-') && !before.has(name));
  expect(left).toEqual([]);
  const stray = fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return fs.readFileSync(path.join('/proc', entry, 'cmdline'), 'utf8').includes('fleetcast-demo-');
      } catch {
        return false;
      }
    });
  expect(stray).toEqual([]);
}, 300_000);
