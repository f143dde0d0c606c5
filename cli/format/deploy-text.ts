import type { ConvergenceJson, DeploymentJson, DeploymentProgressJson, LockJson, MirrorJson, ServiceStatusJson, WaveJson } from '../../api-contract/index.ts';
import { formatDuration } from '../../config/index.ts';
import { bytes } from './build-text.ts';

export function deploymentLine(d: DeploymentJson): string {
  const verb = d.kind === 'rollback' ? 'rolled back' : 'deployed';
  const spooled = d.spooled ? ' (the database is down: the record is written when it is back)' : '';
  const replayed = d.replayed ? ' (an earlier request with this Idempotency-Key made it; nothing new was done)' : '';
  const gates = d.waves.flatMap((w, i) => (w.gate ? [`\nmetric gate, wave ${i + 1}: ${gateText(w.gate)}`] : []));
  return `${d.id}: ${verb} ${d.service} to ${d.build} in ${d.regions.join(', ')} — ${d.status}${spooled}${replayed}${d.waves.length > 1 ? `\nwaves: ${wavesText(d.waves)}` : ''}${gates.join('')}`;
}

/** `PASSED: eu 0, us 0.02 (at most 0.5 for 1m of sum(rate(…)))`, the failure reason when FAILED. */
export function gateText(gate: NonNullable<WaveJson['gate']>): string {
  const values = Object.entries(gate.values).map(([region, value]) => `${region} ${value ?? 'no value'}`).join(', ') || 'not read yet';
  const rule = `at most ${gate.max} for ${formatDuration(gate.holdMs)} of ${gate.query}`;
  return gate.status === 'FAILED' ? `FAILED: ${gate.reason ?? values}` : `${gate.status}: ${values} (${rule})${gate.reason ? `; ${gate.reason}` : ''}`;
}

/** `eu (WRITTEN) → us, ap (PENDING)`. */
export function wavesText(waves: WaveJson[]): string {
  return waves.map((w) => `${w.regions.map((r) => (w.shares?.[r] ? `${r}:${w.shares[r]}%` : r)).join(', ')} (${w.status})`).join(' → ');
}

export function lockLine(lock: LockJson): string {
  return `locked by ${lock.lockedBy} since ${lock.since} (${lock.reason})`;
}

/** `12/12 running b42` / `3/10 running b42, 5 downloading (43 %), 1 failed (m7: …), 1 silent`. */
export function convergenceText(c: ConvergenceJson): string {
  if (!c.known) return "reports unreadable (leaf or hub link down)";
  if (c.machines === 0) return 'no machines report this service';
  const live = c.machines - c.silent;
  const parts = [`${c.running}/${live} running ${c.goalBuild ?? ''}`.trimEnd() + (c.goalShare ? ` (canary: the machines in ${c.goalShare}% of ${c.region})` : '')];
  if (c.downloading.machines > 0) {
    const share = c.downloading.total > 0 ? ` (${Math.floor((100 * c.downloading.bytes) / c.downloading.total)} % of ${bytes(c.downloading.total)})` : '';
    parts.push(`${c.downloading.machines} downloading${share}`);
  }
  if (c.holding > 0 && c.running < c.machines - c.silent) parts.push(`${c.holding} holding it in cache`);
  if (c.failed.machines > 0) {
    const example = c.failed.examples[0];
    parts.push(`${c.failed.machines} failed${example ? ` (${example.machine}: ${example.error ?? 'failed'})` : ''}`);
  }
  if (c.mismatched > 0) parts.push(`${c.mismatched} report it with another digest or goal sequence (not counted)`);
  if (c.other > 0) parts.push(`${c.other} on other builds`);
  if (c.silent > 0) parts.push(`${c.silent} silent`);
  const refused = refusalText(c);
  if (refused) parts.push(refused);
  return parts.join(', ') + (c.converged ? ' — converged' : '');
}

/** `2 refused GOAL_SIGNATURE_INVALID`, or '' when no machine refuses anything. */
export function refusalText(c: ConvergenceJson): string {
  if (c.refused.machines === 0) return '';
  const codes = Object.entries(c.refused.codes).map(([code, machines]) => `${machines} ${code}`);
  return `${c.refused.machines} refused the goal mirror's document (${codes.join(', ')})`;
}

/** `not-a-mirror: … (repaired 1×, last at …)`, or '' for a healthy mirror. */
export function mirrorText(mirror: MirrorJson | null): string {
  if (!mirror || mirror.state === 'ok') return '';
  const repaired = mirror.lastRepair ? ` (repaired ${mirror.repairs}×, last at ${mirror.lastRepair.at}${mirror.lastRepair.ok ? '' : ', failed'})` : '';
  return `goal mirror ${mirror.state}: ${mirror.problem ?? ''}${repaired}`;
}

/** One line per region of a deployment: its wave's status and where the machines stand. */
export function progressLines(p: DeploymentProgressJson): string[] {
  const { waves } = p.deployment;
  // A region may be in two waves (a share of it, then all of it): the last one written speaks for it.
  const written = (w: WaveJson) => w.status !== 'PENDING' && w.status !== 'SKIPPED';
  const waveOf = (region: string) => {
    for (let i = waves.length - 1; i >= 0; i--) if (waves[i]!.regions.includes(region) && written(waves[i]!)) return i;
    return waves.findIndex((w) => w.regions.includes(region));
  };
  return p.progress.map((c) => {
    const index = waveOf(c.region);
    const wave = p.deployment.waves[index];
    const label = p.deployment.waves.length > 1 ? `wave ${index + 1} ${wave?.status ?? ''}` : (wave?.status ?? '');
    return `  ${c.region.padEnd(12)} ${label.padEnd(18)} ${wave?.status === 'PENDING' || wave?.status === 'SKIPPED' ? '-' : convergenceText(c)}`;
  });
}

/** What a finished `deploy --wait` says. */
export function progressSummary(p: DeploymentProgressJson): string {
  const d = p.deployment;
  if (d.convergedAt) return `${d.id}: ${d.service} ${d.build} converged in ${d.regions.join(', ')}`;
  return `${d.id}: ${d.service} ${d.build} did not converge — ${d.status}${d.error ? `: ${d.error}` : ''}`;
}
