// `fleetcast token hash` through the real executable: the token comes on stdin, the hash is what
// the coordinator compares, and --new makes a token whose hash it prints beside it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { tokenSha256 } from '../../api-contract/index.ts';
import { repoRoot } from '../../test/support/processes.ts';

function fleetcast(args: string[], input = '') {
  const run = spawnSync(process.execPath, [path.join(repoRoot, 'bin/fleetcast.js'), ...args], { cwd: repoRoot, input, encoding: 'utf8', timeout: 30_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

it('prints the sha256 of the token given on stdin', () => {
  const token = 'a-token-for-the-ci-0123456789abcdef';
  const text = fleetcast(['token', 'hash'], `${token}\n`);
  expect(text.code, text.stderr).toBe(0);
  expect(text.stdout).toBe(`${tokenSha256(token)}\n`);
  expect(JSON.parse(fleetcast(['token', 'hash', '--json'], token).stdout)).toEqual({ sha256: tokenSha256(token) });
});

it('makes a new token with --new, and refuses a missing or short one', () => {
  const made = JSON.parse(fleetcast(['token', 'hash', '--new', '--json']).stdout);
  expect(made.token).toMatch(/^[0-9a-f]{64}$/);
  expect(made.sha256).toBe(tokenSha256(made.token));
  const empty = fleetcast(['token', 'hash', '--json'], 'short');
  expect(empty.code).toBe(2);
  expect(JSON.parse(empty.stdout).error.message).toContain('fleetcast token hash');
});
