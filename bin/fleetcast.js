#!/usr/bin/env node
// The fleetcast executable. The sources are TypeScript: they are compiled to JavaScript on the
// first run after a change (bin/compile.js, under a second) and the result is run directly.
// FLEETCAST_TS_LOADER=1 runs the sources through tsx instead (no compile step, more memory);
// so does a checkout where the compiled copy cannot be written (read-only node_modules).
import { pathToFileURL } from 'node:url';
import { ensureSupportedNode } from './runtime.js';

await ensureSupportedNode();

async function compiled() {
  if (process.env.FLEETCAST_TS_LOADER === '1') return undefined;
  const { compiledCli } = await import('./compile.js');
  try {
    return pathToFileURL(await compiledCli()).href;
  } catch (err) {
    process.stderr.write(`fleetcast: could not compile to JavaScript (${err.message}); running the TypeScript sources through tsx\n`);
    return undefined;
  }
}

const entry = await compiled();
if (entry) {
  await import(entry);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
