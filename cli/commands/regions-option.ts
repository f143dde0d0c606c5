import { FleetcastError } from '../../errors/index.ts';

/**
 * `--regions eu,us` → `{ regions: ['eu', 'us'] }`; absent → `{}` (every region). Checked before
 * anything is sent, so a typo is a usage error (exit 2) with the flag named, not a request.
 */
export function regionsOption(text: string | undefined): { regions?: string[] } {
  if (text === undefined) return {};
  const regions = text.split(',').map((r) => r.trim()).filter(Boolean);
  const bad = regions.filter((r) => !/^[a-z0-9-]+$/.test(r));
  if (regions.length === 0 || bad.length > 0) {
    const problem = regions.length === 0 ? 'no region named' : `${bad.map((r) => JSON.stringify(r)).join(', ')} ${bad.length === 1 ? 'is not a region name' : 'are not region names'}`;
    throw new FleetcastError('INVALID_INPUT', `--regions ${JSON.stringify(text)}: ${problem}; give comma-separated region names of lower-case letters, digits and dashes, e.g. --regions eu,us`, { regions: text });
  }
  return { regions };
}
