// The rate limit on audit rows of refused requests: a flood costs a bounded number of rows per
// window, and what was left out is counted into one row when the next window starts.
import { expect, it } from 'vitest';
import { FleetcastError } from '../../../errors/index.ts';
import { silentLogger } from '../../../logging/index.ts';
import { RefusalAudit, type AuditRow } from './refusal-audit.ts';

it('writes at most `rows` refusals per window and one row counting the rest', async () => {
  const rows: AuditRow[] = [];
  let now = 1_000_000;
  const audit = new RefusalAudit(async (row) => void rows.push(row), silentLogger(), { rows: 3, windowMs: 60_000 }, () => now);
  const refusal = { action: 'request', target: '/v1/builds', actor: 'unknown-token', error: new FleetcastError('UNAUTHORIZED', 'unknown API token'), detail: {} };
  for (let i = 0; i < 1000; i++) audit.note(refusal);
  expect(rows).toHaveLength(3);
  expect(rows[0]).toMatchObject({ actor: 'unknown-token', result: 'refused', detail: { error: { code: 'UNAUTHORIZED' } } });
  now += 60_000;
  audit.note(refusal);
  expect(rows.slice(3).map((row) => [row.action, row.detail.count ?? null])).toEqual([
    ['refusals-suppressed', 997],
    ['request', null],
  ]);
});

it('writes the count when the window ends even if the flood stopped', async () => {
  const rows: AuditRow[] = [];
  const audit = new RefusalAudit(async (row) => void rows.push(row), silentLogger(), { rows: 1, windowMs: 50 });
  const refusal = { action: 'deploy', target: 'api', actor: 'ci', error: new FleetcastError('FORBIDDEN', 'no'), detail: {} };
  for (let i = 0; i < 5; i++) audit.note(refusal);
  expect(rows).toHaveLength(1);
  await new Promise((resolve) => setTimeout(resolve, 120));
  expect(rows.map((row) => [row.action, row.detail.count ?? null])).toEqual([
    ['deploy', null],
    ['refusals-suppressed', 4],
  ]);
});
