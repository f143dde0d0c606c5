import type { CommitInfo, DeployPreviewInfo } from '../fleet/fleet-json.ts';
import { escape, shortCommit } from './blocks.ts';

/** Commits shown per direction; the CLI's --dry-run --json has them all. */
const shownCommits = 8;

function list(verb: string, commits: CommitInfo[], truncated: boolean): string[] {
  if (commits.length === 0) return [];
  const more = commits.length > shownCommits || truncated ? ['…and more: `fleetcast deploy … --dry-run` lists them'] : [];
  return [`${verb} ${commits.length}${truncated ? '+' : ''} commit${commits.length === 1 ? '' : 's'}:`, ...commits.slice(0, shownCommits).map((c) => `• \`${shortCommit(c.sha)}\` ${escape(c.subject)} — ${escape(c.author.replace(/ <.*>$/, ''))}`), ...more];
}

/** The commits a deploy ships or a rollback removes, per group of regions on the same build, as the coordinator read them from its mirror. */
export function commitLines(preview: DeployPreviewInfo): string {
  return preview.changes
    .map((change) => {
      const where = preview.changes.length > 1 ? `*${change.regions.join(', ')}* (from ${change.from ?? 'nothing'}): ` : '';
      if (change.error) return `${where}:warning: commits not listed: ${escape(change.error)}`;
      const lines = [...list('ships', change.shipped, change.truncated), ...list('removes', change.removed, change.truncated)];
      if (lines.length === 0) return `${where}no commit changes (the same commit)`;
      return `${where}${lines.join('\n')}`;
    })
    .join('\n');
}
