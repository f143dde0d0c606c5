import { execFileSync } from 'node:child_process';
import { FleetcastError } from '../errors/index.ts';
import { findNatsServer } from '../ops/nats/nats-server-process.ts';

/**
 * What `fleetcast up` needs besides Node: nats-server (hub and leaves), git and bubblewrap
 * (builders; bubblewrap unless FLEETCAST_BUILD_SANDBOX=none), openssl (the local CA of its TLS). Missing ones are named together,
 * with the command that installs them.
 */
export function checkPrerequisites(options: { sandbox: boolean } = { sandbox: true }): void {
  const missing: string[] = [];
  try {
    findNatsServer();
  } catch {
    missing.push('nats-server');
  }
  for (const [program, args] of [['git', ['--version']], ['openssl', ['version']]] as const) {
    try {
      execFileSync(program, args, { stdio: 'ignore' });
    } catch {
      missing.push(program);
    }
  }
  if (options.sandbox) {
    try {
      execFileSync('bwrap', ['--version'], { stdio: 'ignore' });
    } catch {
      missing.push('bubblewrap');
    }
  }
  if (missing.length > 0) {
    throw new FleetcastError(
      'PREREQUISITE_MISSING',
      `fleetcast up needs ${missing.join(' and ')}, which ${missing.length > 1 ? 'are' : 'is'} not installed: run  sudo apt-get install -y ${missing.join(' ')}  (or bash ops/ensure-tools.sh as root)${missing.includes('nats-server') ? '; or set FLEETCAST_NATS_SERVER to the binary' : ''}`,
      { missing },
    );
  }
}
