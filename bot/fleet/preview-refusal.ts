// The coordinator judges whether a deploy or rollback would be refused (its preview route); the
// bot only words the answer for Slack.
import { FleetcastError } from '../../errors/index.ts';
import type { DeployPreviewInfo } from './fleet-json.ts';

/**
 * The refusal the request would get (the first the coordinator lists), or null. A
 * NOT_DEPLOYABLE one carries the copies of the regions that lack one (`details.copies`, shown
 * with their progress) and the command for the other regions.
 */
export function previewRefusal(preview: DeployPreviewInfo): FleetcastError | null {
  const first = preview.refusals[0]?.error;
  if (!first) return null;
  if (first.code !== 'NOT_DEPLOYABLE' || preview.kind !== 'deploy') return new FleetcastError(first.code, first.message, first.details);
  const missing = Array.isArray(first.details.missingRegions) ? (first.details.missingRegions as string[]) : [];
  const copies = (preview.build.replication ?? []).filter((copy) => missing.includes(copy.region));
  const others = preview.waves.flat().filter((region) => !missing.includes(region));
  const hint = missing.length > 0 && others.length > 0 ? ` — from Slack: \`/deploy ${preview.build.id} ${others.join(',')}\`` : '';
  return new FleetcastError(first.code, `${first.message}${hint}`, { ...first.details, copies });
}
