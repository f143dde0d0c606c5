import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensurePrivateDir, ensureTraversableDir } from '../../config/index.ts';
import { FleetcastError } from '../../errors/index.ts';
import type { Logger } from '../../logging/index.ts';
import type { AgentLayout } from './agent-layout.ts';

const exec = promisify(execFile);

/** The unprivileged user services' run commands run as (FLEETCAST_SERVICE_USER). */
export interface ServiceUser {
  /** As configured: a name or a uid. */
  name: string;
  uid: number;
  gid: number;
}

/**
 * Looks FLEETCAST_SERVICE_USER up once, at start (`id -u`, `id -g`: names from NSS, LDAP
 * included). Unset: null, and services run as the agent's own user — with a warning when that
 * is root, since a service running as the agent's user can read its credentials from /proc.
 */
export async function resolveServiceUser(setting: string | undefined, logger: Logger): Promise<ServiceUser | null> {
  if (setting === undefined) {
    if (process.getuid?.() === 0) {
      logger.warn('the agent runs as root and FLEETCAST_SERVICE_USER is unset: services run as root and can read the agent\'s credentials (/proc/<agent pid>/environ, its data dir); set FLEETCAST_SERVICE_USER to an unprivileged user (docs/operations.md)');
    }
    return null;
  }
  const [uid, gid] = await Promise.all([idOf(setting, '-u'), idOf(setting, '-g')]);
  if (uid === 0) throw new FleetcastError('CONFIG_INVALID', `FLEETCAST_SERVICE_USER=${setting} is root: name an unprivileged user, or leave it unset`, { setting: 'FLEETCAST_SERVICE_USER' });
  if (uid !== process.getuid?.() && process.getuid?.() !== 0) {
    throw new FleetcastError('CONFIG_INVALID', `FLEETCAST_SERVICE_USER=${setting}: only an agent running as root can run services as another user; run the agent as root, or leave it unset`, { setting: 'FLEETCAST_SERVICE_USER' });
  }
  return { name: setting, uid, gid };
}

async function idOf(user: string, flag: '-u' | '-g'): Promise<number> {
  try {
    const { stdout } = await exec('id', [flag, '--', user], { timeout: 10_000 });
    return Number(stdout.trim());
  } catch (err) {
    const reason = ((err as { stderr?: string }).stderr ?? (err as Error).message).trim();
    throw new FleetcastError('CONFIG_INVALID', `FLEETCAST_SERVICE_USER=${user}: no such user on this machine (${reason}); create it (useradd --system --no-create-home fleetcast-svc) or name another`, {
      setting: 'FLEETCAST_SERVICE_USER',
    });
  }
}

/**
 * Lets the service user reach one build's artifact by name: every directory from the agent dir
 * down to the build's is 0711 (passable, not listable), the artifact 0755. The rest of the agent
 * dir stays its user's: the logs dir 0700, secret files 0600, nothing listable.
 */
export function openBuildPath(layout: AgentLayout, service: string, build: string, file: string): void {
  for (const dir of [layout.root, layout.servicesDir, layout.serviceDir(service), layout.buildsDir(service), layout.buildDir(service, build)]) ensureTraversableDir(dir);
  fs.chmodSync(file, 0o755);
  // An older agent made it by the umask (0755): the service dir is passable now.
  ensurePrivateDir(path.dirname(layout.logFile(service, build)));
}
