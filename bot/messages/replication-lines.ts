import { formatBytes } from '../../config/index.ts';
import type { BuildInfo } from '../fleet/fleet-json.ts';
import { escape } from './blocks.ts';

type Copy = NonNullable<BuildInfo['replication']>[number];

const icons: Record<Copy['status'], string> = { DONE: ':white_check_mark:', COPYING: ':arrows_counterclockwise:', PENDING: ':hourglass_flowing_sand:', FAILED: ':x:' };

/** One region's copy of a build: `:arrows_counterclockwise: *ap* COPYING 40% (1.2 GiB of 3 GiB)`. */
export function replicationLine(copy: Copy): string {
  if (copy.removedAt !== null) return `:wastebasket: *${copy.region}* removed by retention ${copy.removedAt}`;
  const progress = copy.status === 'COPYING' && copy.size ? ` ${Math.floor((copy.bytesCopied / copy.size) * 100)}% (${formatBytes(copy.bytesCopied)} of ${formatBytes(copy.size)})` : '';
  const error = copy.error ? ` — ${escape(copy.error)}` : '';
  const attempts = copy.status === 'FAILED' || copy.attempts > 1 ? ` after ${copy.attempts} attempt${copy.attempts === 1 ? '' : 's'}` : '';
  return `${icons[copy.status]} *${copy.region}* ${copy.status}${progress}${attempts}${error}`;
}
