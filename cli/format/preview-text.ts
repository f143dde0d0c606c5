import type { CommitJson, DeployPreviewJson } from '../../api-contract/index.ts';
import { lockLine } from './deploy-text.ts';

/** Commits listed per direction in text; --json has every one the coordinator sent. */
const shownCommits = 20;

function commitLines(verb: string, commits: CommitJson[], truncated: boolean): string[] {
  if (commits.length === 0) return [];
  const more = commits.length > shownCommits || truncated ? [`    … and more (fleetcast … --dry-run --json lists up to 50)`] : [];
  return [`  ${verb} ${commits.length}${truncated ? '+' : ''} commit${commits.length === 1 ? '' : 's'}:`, ...commits.slice(0, shownCommits).map((c) => `    ${c.sha.slice(0, 12)} ${c.subject} (${c.author})`), ...more];
}

/** What `deploy --dry-run` / `rollback --dry-run` print: nothing was changed. */
export function previewText(p: DeployPreviewJson): string {
  const verb = p.kind === 'rollback' ? `roll ${p.service} back to` : `deploy ${p.service}`;
  const lines = [`dry run: would ${verb} ${p.build.id} (commit ${p.build.commit.slice(0, 12)}${p.build.commitSubject ? ` — ${p.build.commitSubject}` : ''}); nothing was changed`];
  lines.push(p.waves.length > 1 ? `waves: ${p.waves.map((w) => w.join(', ')).join(' → ')}` : `one wave: ${p.waves[0]!.join(', ')} at once`);
  for (const r of p.regions) {
    const from = r.current ? `${r.current.build} (${r.current.deployment})` : 'nothing yet';
    const machines = !r.known ? 'reports unreadable' : `${r.machines} machines: ${r.running} run ${p.build.id}, ${r.holding} hold it in cache${r.silent > 0 ? `, ${r.silent} silent` : ''}`;
    lines.push(`${r.region}: ${from} → ${p.build.id} — ${machines}`);
  }
  for (const change of p.changes) {
    const from = change.from === null ? 'nothing deployed yet' : `${change.from} (${change.fromCommit?.slice(0, 12) ?? 'commit unknown'})`;
    lines.push(`commits for ${change.regions.join(', ')}, from ${from}:`);
    if (change.error) lines.push(`  not listed: ${change.error}`);
    else if (change.shipped.length === 0 && change.removed.length === 0) lines.push('  none (the same commit)');
    lines.push(...commitLines('ships', change.shipped, change.truncated), ...commitLines('removes', change.removed, change.truncated));
  }
  if (p.lock) lines.push(`${p.service} is ${lockLine(p.lock)}${p.kind === 'rollback' ? ' (the rollback replaces the lock)' : ''}`);
  if (p.kind === 'rollback') lines.push(`after it, ${p.service} stays locked until fleetcast unlock ${p.service}`);
  if (p.refusals.length === 0) lines.push(`it would go ahead`);
  else lines.push(`it would be refused:`, ...p.refusals.map((r) => `  ${r.error.code}: ${r.error.message}`));
  return lines.join('\n');
}
