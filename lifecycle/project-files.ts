import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * A file shipped with fleetcast (`bin/fleetcast.js`, `ops/nats/hub.conf.template`), found from
 * wherever this module runs: the sources, or their compiled copy under
 * node_modules/.cache/fleetcast/ (bin/compile.js), which sits inside the project too.
 */
export function projectFile(...segments: string[]): string {
  root ??= entryRoot() ?? findRoot(path.dirname(fileURLToPath(import.meta.url)));
  return path.join(root, ...segments);
}

/**
 * The checkout whose `bin/fleetcast.js` was run. Node loads the compiled copy by its real path,
 * so where node_modules is a symlink (a git worktree sharing another checkout's) that copy's
 * own location points at the other checkout — and `up` would start the other code's roles.
 */
function entryRoot(): string | undefined {
  const entry = process.argv[1];
  if (!entry || path.basename(entry) !== 'fleetcast.js' || path.basename(path.dirname(entry)) !== 'bin') return undefined;
  try {
    return findRoot(path.dirname(path.resolve(entry)));
  } catch {
    return undefined;
  }
}

function findRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === 'fleetcast') return dir;
    if (path.dirname(dir) === dir) throw new Error(`cannot find fleetcast's package.json above ${start}`);
  }
}
