import fs from 'node:fs';
import path from 'node:path';
import { clusterSecretPath, ensurePrivateDir, tightenSecretFile, type Tightened } from '../config/index.ts';
import { defaultSqlitePath } from '../entities/index.ts';
import type { Logger } from '../logging/index.ts';
import { localTokenPath } from './api/index.ts';
import { spoolDir } from './deploys/index.ts';
import type { CoordinatorConfig } from './config.ts';

/**
 * The coordinator's data directory and every secret in it are its user's alone: created 0700 /
 * 0600, and narrowed at start when an older version (or a person) left them readable by others
 * — the admin token, the cluster secret, the goal-signing key, the SQLite database and the audit
 * spool would otherwise be open to every local user. Run once the database is open, so its
 * files exist.
 */
export function tightenCoordinatorData(config: CoordinatorConfig, logger: Logger): void {
  const dir = config.FLEETCAST_DATA_DIR;
  const sqlite = defaultSqlitePath(dir);
  const changed: (Tightened | null)[] = [ensurePrivateDir(dir)];
  for (const file of [localTokenPath(dir), clusterSecretPath(dir), config.FLEETCAST_GOAL_SIGNING_KEY]) {
    if (file !== undefined) changed.push(tightenSecretFile(file));
  }
  // SQLite creates its files with the process umask (usually 0644): narrowed on every start, quietly.
  for (const file of [sqlite, `${sqlite}-wal`, `${sqlite}-shm`]) tightenSecretFile(file);
  if (fs.existsSync(spoolDir(dir))) changed.push(ensurePrivateDir(spoolDir(dir)));
  for (const entry of changed) {
    if (entry) logger.warn({ path: path.relative(dir, entry.path) || '.', was: entry.was, now: entry.now }, 'a private file or directory was readable by other users: narrowed');
  }
}
