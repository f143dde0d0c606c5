import { describe, expect, it } from 'vitest';
import type { DeploymentInfo } from '../fleet/fleet-json.ts';
import { progressMessage } from './deployment-progress.ts';

const query = 'sum(rate(errors_total{region="{{region}}",build="{{build}}"}[1m]))';
const since = '2026-12-08T03:00:10.000Z';

const deployment = (waves: DeploymentInfo['waves']): DeploymentInfo => ({
  id: 'd7',
  service: 'api',
  build: 'b42',
  regions: ['eu', 'us'],
  kind: 'deploy',
  requestedBy: 'alice',
  reason: '',
  status: 'ROLLING',
  createdAt: '2026-12-08T03:00:00.000Z',
  error: null,
  waves,
  convergedAt: null,
  rollback: null,
  spooled: false,
  replayed: false,
});

const text = (d: DeploymentInfo) => JSON.stringify(progressMessage({ deployment: d, confirmedBy: 'U1', progress: null, final: false }).blocks);

describe('Slack progress message: metric gates', () => {
  it("says a converged wave's gate holds, with its last values and rule; nothing once it passed", () => {
    const holding = deployment([
      { regions: ['eu'], status: 'WRITTEN', writtenAt: since, doneAt: null, goals: {}, gate: { query, max: 0.5, holdMs: 300_000, since, status: 'HOLDING', values: { eu: 0.02 }, checkedAt: since } },
      { regions: ['us'], status: 'PENDING', writtenAt: null, doneAt: null, goals: {} },
    ]);
    expect(text(holding)).toContain(':hourglass: Wave 1 converged; its metric gate holds for 5m (at most 0.5): eu 0.02');
    const passed = deployment([{ ...holding.waves[0]!, status: 'CONVERGED', gate: { ...holding.waves[0]!.gate!, status: 'PASSED' } }, holding.waves[1]!]);
    expect(text(passed)).not.toContain('metric gate holds');
  });
});
