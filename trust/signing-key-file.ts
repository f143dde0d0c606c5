import { fileStamp } from './file-stamp.ts';
import { readSigningKey, type SigningKey } from './ed25519-keys.ts';

/**
 * The signing key a coordinator holds (FLEETCAST_GOAL_SIGNING_KEY): a private key file, read at
 * start — a missing or bad file stops the start, naming the setting — and read again when it
 * changes (checked at most once per `recheckMs`). Replacing the file's content switches the key
 * without a restart, the signer's half of a rotation (README, "Rotating the goal-signing key").
 * A rewrite that does not parse (caught half-written) leaves the last good key in use.
 */
export class SigningKeyFile {
  private key: SigningKey;
  private stamp: string;
  private checkedAt: number;

  constructor(
    readonly file: string,
    private readonly options: { setting?: string; recheckMs?: number; now?: () => number } = {},
  ) {
    this.stamp = fileStamp(file);
    this.key = readSigningKey(file, this.setting);
    this.checkedAt = this.now();
  }

  /** The key to sign with now. */
  current(): SigningKey {
    const now = this.now();
    if (now - this.checkedAt >= (this.options.recheckMs ?? 1_000)) {
      this.checkedAt = now;
      const stamp = fileStamp(this.file);
      if (stamp !== this.stamp) {
        try {
          this.key = readSigningKey(this.file, this.setting);
          this.stamp = stamp;
        } catch {
          /* keep the previous key until the file parses */
        }
      }
    }
    return this.key;
  }

  private get setting(): string {
    return this.options.setting ?? 'FLEETCAST_GOAL_SIGNING_KEY';
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

