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
  root ??= findRoot(path.dirname(fileURLToPath(import.meta.url)));
  return path.join(root, ...segments);
}

function findRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === 'fleetcast') return dir;
    if (path.dirname(dir) === dir) throw new Error(`cannot find fleetcast's package.json above ${start}`);
  }
}
