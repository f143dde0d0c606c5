import fs from 'node:fs';
import { FleetcastError } from '../errors/index.ts';
import { parseVerifyingKey, type VerifyingKey } from './ed25519-keys.ts';
import { fileStamp } from './file-stamp.ts';

/**
 * The public keys a reader trusts, from a setting such as FLEETCAST_GOAL_PUBLIC_KEYS: a
 * comma-separated list whose entries are keys (`ed25519:…`) or files holding keys — one per
 * line, or PEM blocks as `openssl pkey -pubout` writes them (`#` starts a comment). Several keys let a signing key be rotated without an outage: trust the
 * new key everywhere, switch the signer, then drop the old one. Files are read again when they
 * change (checked at most once per `recheckMs`), so readers pick up a rotation without a restart.
 */
/** Signature checks remembered per keyring (a few hundred kilobytes at most). */
const maxOutcomes = 512;

export class VerifyingKeyring {
  private keys = new Map<string, VerifyingKey>();
  /** Outcomes of signatures already checked with these keys (see checked()); emptied when the keys change. */
  private outcomes = new Map<string, boolean>();
  private fileStamps = new Map<string, string>();
  private checkedAt = -Infinity;

  constructor(
    private readonly spec: string,
    private readonly options: { setting?: string; recheckMs?: number; now?: () => number } = {},
  ) {
    this.load();
    if (this.keys.size === 0) {
      throw new FleetcastError('CONFIG_INVALID', `${this.setting} names no public key: give the coordinators' goal-signing public key(s) (ed25519:… or a file of them)`, { spec });
    }
  }

  /** The key with this id, reading changed files first when they are due for a check. */
  get(keyId: string): VerifyingKey | undefined {
    this.refreshIfDue();
    return this.keys.get(keyId);
  }

  /**
   * Whether `signature` by key `keyId` is good over `data`, computed once per distinct triple:
   * a reader meets the same document again and again (a watch restarting, a coordinator reading
   * a key's history for each write, every watch of one process), and an Ed25519 verification is
   * what costs (~0.1 ms). Bounded; emptied whenever the trusted keys change.
   */
  checked(keyId: string, signature: string, data: string, verify: () => boolean): boolean {
    const entry = `${keyId}\n${signature}\n${data}`;
    const known = this.outcomes.get(entry);
    if (known !== undefined) return known;
    const good = verify();
    if (this.outcomes.size >= maxOutcomes) this.outcomes.delete(this.outcomes.keys().next().value!);
    this.outcomes.set(entry, good);
    return good;
  }

  /** The ids of every trusted key, for messages and status. */
  keyIds(): string[] {
    this.refreshIfDue();
    return [...this.keys.keys()];
  }

  private get setting(): string {
    return this.options.setting ?? 'FLEETCAST_GOAL_PUBLIC_KEYS';
  }

  private refreshIfDue(): void {
    const now = (this.options.now ?? Date.now)();
    if (now - this.checkedAt < (this.options.recheckMs ?? 1_000)) return;
    this.checkedAt = now;
    const changed = [...this.fileStamps].some(([file, stamp]) => fileStamp(file) !== stamp);
    // A file being rewritten may read short for a moment: keep the last good set until it parses.
    if (changed) {
      try {
        this.load();
      } catch {
        /* keep the previous keys */
      }
    }
  }

  private load(): void {
    const keys = new Map<string, VerifyingKey>();
    const stamps = new Map<string, string>();
    for (const entry of this.spec.split(',').map((e) => e.trim()).filter(Boolean)) {
      const inline = parseVerifyingKey(entry);
      if (inline) {
        keys.set(inline.keyId, inline);
        continue;
      }
      let text: string;
      try {
        stamps.set(entry, fileStamp(entry));
        text = fs.readFileSync(entry, 'utf8');
      } catch (err) {
        throw new FleetcastError('CONFIG_INVALID', `${this.setting}: ${JSON.stringify(entry)} is neither a public key (ed25519:…) nor a readable file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { entry });
      }
      // PEM blocks (as openssl writes public keys; several may follow one another) and one-line keys.
      const pems = text.match(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g) ?? [];
      const rest = text.replace(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g, '');
      const lines = [...pems, ...rest.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean)];
      for (const line of lines) {
        const key = parseVerifyingKey(line);
        if (!key) throw new FleetcastError('CONFIG_INVALID', `${this.setting}: ${entry} holds a line that is not a public key: ${JSON.stringify(line.slice(0, 80))}`, { entry });
        keys.set(key.keyId, key);
      }
    }
    this.keys = keys;
    this.fileStamps = stamps;
    this.outcomes = new Map();
  }
}

