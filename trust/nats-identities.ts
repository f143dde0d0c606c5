import fs from 'node:fs';
import path from 'node:path';
import { nkeys } from '@nats-io/nats-core';
import { z } from 'zod';
import { FleetcastError } from '../errors/index.ts';

/**
 * Who a NATS identity is. What each may do is fixed by its role (ops/nats/users-config.ts):
 * the coordinator manages the goal state on the hub; a seeder only reads its region's goal; an
 * agent reads its region's goal and writes only the status keys of its own machine.
 */
export const natsRoles = ['coordinator', 'seeder', 'agent'] as const;
export type NatsRole = (typeof natsRoles)[number];

const token = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

const identitySchema = z.object({
  name: z.string(),
  role: z.enum(natsRoles),
  region: z.string().regex(/^[a-z0-9-]+$/).optional(),
  machine: z.string().regex(token),
  /** The user's public nkey (U…): the only thing the NATS servers learn of it. */
  publicKey: z.string().regex(/^U[A-Z2-7]{55}$/),
  issuedAt: z.string(),
  revokedAt: z.string().optional(),
});
export type NatsIdentity = z.infer<typeof identitySchema>;

const registrySchema = z.object({ version: z.literal(1), identities: z.array(identitySchema) });

export interface IssueRequest {
  role: NatsRole;
  /** Required for seeders and agents: the region whose leaf they use. */
  region?: string;
  /** The machine (agents), the seeder's name, or the coordinator's (default `coordinator`). */
  machine?: string;
  /** Where the creds file goes. @defaultValue `<registry dir>/creds/<name>.nk` */
  out?: string;
}

/**
 * The fleet's NATS identities: `<dir>/registry.json` lists every identity issued (public keys
 * only, revoked ones kept with the time) and `<dir>/creds/` holds the creds files issued without
 * `out`. A creds file is the user's nkey seed (mode 0600), the form `nats --nkey` reads; the
 * servers' user lists are rendered from the registry, so revoking one identity removes one entry
 * and leaves every other machine's connection alone.
 */
export class NatsIdentityRegistry {
  constructor(readonly dir: string) {}

  get file(): string {
    return path.join(this.dir, 'registry.json');
  }

  list(): NatsIdentity[] {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const parsed = registrySchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new FleetcastError('CONFIG_INVALID', `${this.file} is not a NATS identity registry (${parsed.error.issues[0]?.message}): restore it from a backup`, { file: this.file });
    return parsed.data.identities;
  }

  /** The identities the servers accept now. */
  active(): NatsIdentity[] {
    return this.list().filter((identity) => !identity.revokedAt);
  }

  /** A new key pair for one identity; the seed goes to the creds file only. Refuses a name that is active. */
  issue(request: IssueRequest): { identity: NatsIdentity; credsFile: string } {
    const identity = this.describe(request);
    const user = nkeys.createUser();
    const credsFile = path.resolve(request.out ?? path.join(this.dir, 'creds', `${identity.name}.nk`));
    return this.update((identities) => {
      if (identities.some((other) => other.name === identity.name && !other.revokedAt)) {
        throw new FleetcastError('CONFLICT', `${identity.name} already has an active NATS identity: revoke it first (fleetcast creds revoke ${identity.role}${identity.region ? ` --region ${identity.region}` : ''} --machine ${identity.machine}), then issue a new one`, { name: identity.name });
      }
      const issued = { ...identity, publicKey: user.getPublicKey() };
      fs.mkdirSync(path.dirname(credsFile), { recursive: true, mode: 0o700 });
      fs.writeFileSync(credsFile, `${new TextDecoder().decode(user.getSeed())}\n`, { mode: 0o600 });
      return { identities: [...identities, issued], result: { identity: issued, credsFile } };
    });
  }

  /** Marks the active identity of that role, region and machine revoked; its creds file stops working once the servers reload. */
  revoke(request: Omit<IssueRequest, 'out'>): NatsIdentity {
    const { name } = this.describe(request);
    return this.update((identities) => {
      const index = identities.findIndex((identity) => identity.name === name && !identity.revokedAt);
      if (index < 0) throw new FleetcastError('NOT_FOUND', `no active NATS identity ${name}: see fleetcast creds list`, { name });
      const revoked = { ...identities[index]!, revokedAt: new Date().toISOString() };
      return { identities: identities.map((identity, i) => (i === index ? revoked : identity)), result: revoked };
    });
  }

  private describe(request: Omit<IssueRequest, 'out'>): Omit<NatsIdentity, 'publicKey'> {
    const { role } = request;
    const machine = request.machine ?? (role === 'coordinator' ? 'coordinator' : undefined);
    if (!machine || !token.test(machine)) {
      throw new FleetcastError('INVALID_INPUT', `a ${role} identity needs --machine: letters, digits, "_" and "-" (no dots; at most 128 characters)`, { machine });
    }
    if (role !== 'coordinator' && (!request.region || !/^[a-z0-9-]+$/.test(request.region) || request.region === 'hub')) {
      throw new FleetcastError('INVALID_INPUT', `a ${role} identity needs --region: the region whose leaf it connects to (lower-case letters, digits and dashes)`, { region: request.region });
    }
    const region = role === 'coordinator' ? undefined : request.region;
    const name = role === 'coordinator' && machine === 'coordinator' ? 'coordinator' : [role, region, machine].filter(Boolean).join('-');
    return { name, role, ...(region ? { region } : {}), machine, issuedAt: new Date().toISOString() };
  }

  /** Read, change, write whole (temp + rename) under a lock file: two `creds` commands at once lose nothing. */
  private update<T>(change: (identities: NatsIdentity[]) => { identities: NatsIdentity[]; result: T }): T {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const lock = path.join(this.dir, 'registry.lock');
    const fd = acquireLock(lock);
    try {
      const { identities, result } = change(this.list());
      const temp = `${this.file}.${process.pid}.tmp`;
      fs.writeFileSync(temp, JSON.stringify({ version: 1, identities }, null, 2) + '\n', { mode: 0o600 });
      fs.renameSync(temp, this.file);
      return result;
    } finally {
      fs.closeSync(fd);
      fs.rmSync(lock, { force: true });
    }
  }
}

/** Reads a creds file: the nkey seed of a user (S U…). */
export function readNatsCreds(file: string): Uint8Array {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new FleetcastError('CONFIG_INVALID', `cannot read the NATS creds file ${file} (${(err as NodeJS.ErrnoException).code}): FLEETCAST_NATS_CREDS names the file \`fleetcast creds issue\` wrote`, { file }, { cause: err });
  }
  const seed = text.split('\n').map((line) => line.trim()).find((line) => /^SU[A-Z2-7]{56}$/.test(line));
  if (!seed) throw new FleetcastError('CONFIG_INVALID', `${file} holds no NATS user seed (a line SU…): FLEETCAST_NATS_CREDS names the file \`fleetcast creds issue\` wrote`, { file });
  return new TextEncoder().encode(seed);
}

/**
 * Where the replies and watch deliveries of an identity's connection arrive: `_INBOX.<public key>`.
 * Its NATS permissions allow subscribing there only, so a machine cannot read the replies and
 * goal deliveries of another machine on the same leaf (the account-wide `_INBOX.>` would let it).
 */
export function privateInboxPrefix(publicKey: string): string {
  return `_INBOX.${publicKey}`;
}

/** The public key (U…) of a creds file, for messages and logs. */
export function natsCredsPublicKey(file: string): string {
  return nkeys.fromSeed(readNatsCreds(file)).getPublicKey();
}

function acquireLock(file: string): number {
  for (let attempt = 0; ; attempt++) {
    try {
      return fs.openSync(file, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A lock left by a process killed while holding it: a registry write takes well under a second.
      const age = Date.now() - (fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 30_000) fs.rmSync(file, { force: true });
      else if (attempt >= 100) throw new FleetcastError('BUSY', `${file} is held by another fleetcast creds command: try again`, { file });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
}
