import type { ConvergenceJson, ServiceStatusJson } from '../../api-contract/index.ts';
import { bytes } from './build-text.ts';
import { deploymentLine, lockLine, mirrorText, refusalText } from './deploy-text.ts';
import { table } from './table.ts';

/** Digests are shown by their first 12 hex digits, as `git` shows commits: enough to tell builds apart. */
export function shortDigest(digest: string): string {
  return digest.slice(0, 12);
}

/**
 * What the machines running the goal build report as its digest: `3f2a9c1e0b7d = goal` when
 * every one reports the signed digest, else each digest with its count and `≠ goal`.
 */
export function reportedDigestText(c: ConvergenceJson): string {
  const onGoal = c.runningDigests.filter((d) => d.build === c.goalBuild);
  if (onGoal.length === 0) return '-';
  if (onGoal.length === 1 && onGoal[0]!.digest === c.goalDigest) return `${shortDigest(onGoal[0]!.digest)} = goal`;
  return onGoal.map((d) => `${shortDigest(d.digest)} ×${d.machines}${d.digest === c.goalDigest ? '' : ' ≠ goal'}`).join(', ');
}

/** Whatever a region's counts do not say: downloads, mismatches, other builds, refusals, and whether it converged. */
function notesText(c: ConvergenceJson): string {
  const parts: string[] = [];
  if (c.downloading.machines > 0) {
    const share = c.downloading.total > 0 ? ` (${Math.floor((100 * c.downloading.bytes) / c.downloading.total)} % of ${bytes(c.downloading.total)})` : '';
    parts.push(`${c.downloading.machines} downloading${share}`);
  }
  const example = c.failed.examples[0];
  if (example) parts.push(`failed e.g. ${example.machine}: ${example.error ?? 'failed'}`);
  if (c.mismatched > 0) parts.push(`${c.mismatched} report it with another digest or goal sequence (not counted)`);
  if (c.other > 0) parts.push(`${c.other} idle or on other builds`);
  const refused = refusalText(c);
  if (refused) parts.push(refused);
  if (c.converged && c.machines > 0) parts.push('converged');
  return parts.join(', ') || '-';
}

/** RUNNING, HOLDING, FAILED, SILENT, DIGEST and NOTES cells of a region with a goal. */
function machineCells(c: ConvergenceJson): string[] {
  if (!c.known) return ['?', '?', '?', '?', '?', "reports unreadable (leaf or hub link down)"];
  if (c.machines === 0) return ['0', '0', '0', '0', '-', 'no machines report this service'];
  return [`${c.running}/${c.machines - c.silent}`, String(c.holding), String(c.failed.machines), String(c.silent), reportedDigestText(c), notesText(c)];
}

/**
 * `fleetcast status`: per region the goal build and what its machines do about it — running it
 * (of those reporting in time), holding it in cache, failed on it, silent — and the digest the
 * running ones report; then the lock, problems with goals and mirrors, and the newest deployment.
 */
export function statusText(status: ServiceStatusJson): string {
  const rows = status.regions.map((r) => [
    r.region,
    r.goal ? `${r.goal.build} (seq ${r.goal.seq})` : r.goalError ? (r.goalError.code === 'GOAL_SIGNATURE_INVALID' ? 'not signed' : 'malformed') : '-',
    r.goal?.deployment ?? '-',
    r.goal ? `${r.goal.kind} by ${r.goal.by}` : '-',
    ...(r.goal ? machineCells(r.convergence) : ['-', '-', '-', '-', '-', refusalText(r.convergence) || '-']),
  ]);
  const lock = status.lock ? lockLine(status.lock) : 'not locked';
  const newest = status.deployment ? `\nnewest: ${deploymentLine(status.deployment)}` : '';
  const broken = status.regions.filter((r) => r.goalError).map((r) => `\n${r.region}: ${r.goalError!.code}: ${r.goalError!.message}`);
  const refusals = status.regions.flatMap((r) => r.convergence.refused.examples.slice(0, 1).map((e) => `\n${r.region}: ${r.convergence.refused.machines} machine(s) refused a document, e.g. ${e.machine}: ${e.code}: ${e.message}`));
  const mirrors = status.regions.map((r) => ({ region: r.region, text: mirrorText(r.mirror) })).filter((m) => m.text).map((m) => `\n${m.region}: ${m.text}`);
  const header = ['REGION', 'GOAL', 'DEPLOYMENT', 'BY', 'RUNNING', 'HOLDING', 'FAILED', 'SILENT', 'DIGEST', 'NOTES'];
  return `${status.service}: ${lock}\n${table(header, rows)}${broken.join('')}${refusals.join('')}${mirrors.join('')}${newest}`;
}
