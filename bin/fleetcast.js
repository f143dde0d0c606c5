#!/usr/bin/env node
// The fleetcast executable. The sources are TypeScript: they are compiled to JavaScript on the
// first run after a change (bin/compile.js, under a second) and the result is run directly.
// FLEETCAST_TS_LOADER=1 runs the sources through tsx instead (no compile step, more memory);
// so does a checkout where the compiled copy cannot be written (read-only node_modules).
// `fleetcast log-writer …` (one per supervised service process) runs its own small entry point.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureSupportedNode } from './runtime.js';

await ensureSupportedNode();

const logWriter = process.argv[2] === 'log-writer';

async function compiled() {
  if (process.env.FLEETCAST_TS_LOADER === '1') return undefined;
  const { compiledCli } = await import('./compile.js');
  try {
    const main = await compiledCli();
    return pathToFileURL(logWriter ? path.join(path.dirname(main), 'log-writer.js') : main).href;
  } catch (err) {
    process.stderr.write(`fleetcast: could not compile to JavaScript (${err.message}); running the TypeScript sources through tsx\n`);
    return undefined;
  }
}

const entry = await compiled();
if (entry) {
  const loaded = await import(entry);
  if (logWriter) await loaded.main(process.argv.slice(3));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  if (logWriter) await (await import('../logging/log-writer-main.ts')).main(process.argv.slice(3));
  else await import('../cli/main.ts');
}
