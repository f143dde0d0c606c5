import fs from 'node:fs';
import type { Logger } from '../../../logging/index.ts';
import { readPermissionsFile, type Permissions } from './permissions-file.ts';
import type { ServiceAccess } from './service-access.ts';
import type { ApiToken, TokenStore } from './token-store.ts';

/** How often the file's mtime and size are looked at (fs.watchFile: also sees an editor's rename-over). */
const watchIntervalMs = 1_000;

/**
 * Keeps the API's tokens and Slack grants in step with the permissions file: read again on
 * SIGHUP or when the file changes, without a restart. A file with a mistake is refused with an
 * error in the log and the tokens in force stay as they were: a typo must not lock everyone out
 * (or let everyone in).
 */
export class PermissionsReloader {
  private readonly onSignal = () => this.reload('SIGHUP');
  private readonly onChange = (now: fs.Stats, before: fs.Stats) => {
    if (now.mtimeMs !== before.mtimeMs || now.size !== before.size || now.ino !== before.ino) this.reload('the file changed');
  };

  constructor(
    private readonly file: string,
    /** Tokens that are not in the file (the local admin token): kept through every reload. */
    private readonly fixed: readonly ApiToken[],
    private readonly tokens: TokenStore,
    private readonly access: ServiceAccess,
    private readonly logger: Logger,
  ) {}

  start(): void {
    process.on('SIGHUP', this.onSignal);
    fs.watchFile(this.file, { interval: watchIntervalMs, persistent: false }, this.onChange);
  }

  stop(): void {
    process.off('SIGHUP', this.onSignal);
    fs.unwatchFile(this.file, this.onChange);
  }

  /** Reads the file and swaps tokens and grants at once; false (logged) when the file was refused. */
  reload(why: string): boolean {
    let permissions: Permissions;
    try {
      permissions = readPermissionsFile(this.file);
      this.tokens.replace([...this.fixed, ...permissions.tokens]);
    } catch (err) {
      this.logger.error({ err, file: this.file, why }, 'permissions file refused: the tokens and grants loaded before stay in force; fix the file');
      return false;
    }
    this.access.replaceGrants(permissions.slack);
    warnPlaintext(permissions, this.file, this.logger);
    this.logger.info({ file: this.file, why, tokens: permissions.tokens.length }, 'permissions file reloaded');
    return true;
  }
}

/** Plaintext tokens still work; each load says which ones to replace by their hash. */
export function warnPlaintext(permissions: Permissions, file: string, logger: Logger): void {
  if (permissions.plaintext.length === 0) return;
  logger.warn(
    { file, tokens: permissions.plaintext },
    'the permissions file holds tokens in plaintext: replace each "token" by "sha256" (fleetcast token hash), so whoever reads the file cannot present them',
  );
}
