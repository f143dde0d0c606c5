// Compiles the fleetcast command (cli/main.ts and everything it imports) to JavaScript once per
// change of the sources, so that running it needs no TypeScript loader. The loader (tsx) runs
// its hooks in a thread of their own, ~40 MB per process — a builder or an agent pays that on
// every machine. esbuild does it in well under a second; the result is reused until a source
// file changes.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outRoot = path.join(root, 'node_modules', '.cache', 'fleetcast');
const skip = new Set(['node_modules', 'test', 'bench', '.git', '.ci', 'docs']);

/** Every source file the command may import, with its size and modification time. */
function sourceFingerprint() {
  const hash = crypto.createHash('sha256');
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.') || skip.has(entry.name)) continue;
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (/\.(ts|json)$/.test(entry.name) && !entry.name.endsWith('.test.ts')) {
        const stat = fs.statSync(file);
        hash.update(`${path.relative(root, file)}:${stat.size}:${stat.mtimeMs}\n`);
      }
    }
  };
  walk(root);
  return hash.digest('hex').slice(0, 16);
}

/** The compiled entry point, compiling first when the sources changed. */
export async function compiledCli() {
  const dir = path.join(outRoot, sourceFingerprint());
  const entry = path.join(dir, 'main.js');
  if (fs.existsSync(entry)) return entry;

  const { build } = await import('esbuild');
  // Build beside, then rename: processes starting together never see half a build.
  const staging = `${dir}.${process.pid}.tmp`;
  await build({
    // log-writer: the small process that keeps a supervised service's log (logging/log-writer-main.ts),
    // one per service process, so it loads nothing of the command.
    entryPoints: { main: path.join(root, 'cli', 'main.ts'), 'log-writer': path.join(root, 'logging', 'log-writer-main.ts') },
    outdir: staging,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    packages: 'external',
    sourcemap: 'inline',
    tsconfig: path.join(root, 'tsconfig.json'),
    logLevel: 'error',
  });
  try {
    fs.renameSync(staging, dir);
  } catch {
    // Another process finished the same build first.
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return entry;
}
