// Goal-signing keys for tests, made the way `fleetcast up` makes them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signGoal, type Goal, type GoalContent, type GoalPurpose } from '../../goalstate/index.ts';
import { createSigningKeyFiles, readSigningKey, SigningKeyFile, VerifyingKeyring, type SigningKey } from '../../trust/index.ts';

export interface TestGoalKeys {
  /** The folder of the two files. */
  dir: string;
  /** Removes the folder (for keys made in a temporary one). */
  remove(): void;
  /** The coordinator's private key file (FLEETCAST_GOAL_SIGNING_KEY). */
  privateFile: string;
  /** The readers' public key file (FLEETCAST_GOAL_PUBLIC_KEYS). */
  publicFile: string;
  /** `ed25519:…`. */
  publicKey: string;
  key: SigningKey;
  /** The private key file, re-read when it changes (what a coordinator holds). */
  signingKey: SigningKeyFile;
  /** A keyring of the public key file (what agents and seeders hold). */
  keyring: VerifyingKeyring;
  /** Settings for a coordinator: signs with the key, trusts the public key file. */
  coordinatorEnv: Record<string, string>;
  /** Settings for agents and seeders. */
  readerEnv: Record<string, string>;
  /** Signs a document as the coordinator would (tests that write straight into buckets). */
  sign(content: GoalContent, seq: number, purpose?: GoalPurpose): Goal;
}

/** A new key pair in `dir` (a new temporary folder by default; files `goal-signing.key` / `.pub` unless `name` says otherwise). */
export function testGoalKeys(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-goal-keys-')), name = 'goal-signing'): TestGoalKeys {
  fs.mkdirSync(dir, { recursive: true });
  const privateFile = path.join(dir, `${name}.key`);
  const publicFile = path.join(dir, `${name}.pub`);
  const { publicKey } = createSigningKeyFiles(privateFile, publicFile);
  const key = readSigningKey(privateFile);
  return {
    dir,
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
    privateFile,
    publicFile,
    publicKey,
    key,
    signingKey: new SigningKeyFile(privateFile, { recheckMs: 0 }),
    keyring: new VerifyingKeyring(publicFile, { recheckMs: 0 }),
    coordinatorEnv: { FLEETCAST_GOAL_SIGNING_KEY: privateFile, FLEETCAST_GOAL_PUBLIC_KEYS: publicFile },
    readerEnv: { FLEETCAST_GOAL_PUBLIC_KEYS: publicFile },
    sign: (content, seq, purpose = 'goal') => signGoal(content, purpose, seq, key),
  };
}
