import fs from 'node:fs';
import path from 'node:path';

const mask = '[masked]';
/** Shorter values would mask ordinary words of the log. */
const minSecretLength = 8;
const secretName = /SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|_KEY$|^KEY$/i;

/**
 * Replaces known secret values in build log lines before they are stored. The sandbox keeps
 * them out of the build's reach; this is the second line, for a secret that reaches a build
 * anyway (a build setting holding one, a repository that commits one).
 */
export class SecretMasker {
  private readonly secrets: string[];

  constructor(secrets: Iterable<string>) {
    // Longest first, so a secret that contains another is masked whole.
    this.secrets = [...new Set([...secrets].map((s) => s.trim()).filter((s) => s.length >= minSecretLength))].sort((a, b) => b.length - a.length);
  }

  /**
   * The worker's own secrets: values of its secret-named variables, passwords in its URLs, and
   * the secret files of its data directory and permissions file (the admin token, the cluster
   * secret, up.json's token and NATS passwords, every token of the permissions file).
   */
  static fromWorker(env: NodeJS.ProcessEnv, dataDir: string): SecretMasker {
    const found: string[] = [];
    for (const [name, value] of Object.entries(env)) {
      if (!value) continue;
      if (secretName.test(name)) found.push(value);
      found.push(...urlPasswords(value));
    }
    found.push(readText(path.join(dataDir, 'api-token')), readText(path.join(dataDir, 'secret')));
    for (const file of [path.join(dataDir, 'up.json'), env.FLEETCAST_PERMISSIONS]) {
      if (!file) continue;
      collectJsonSecrets(readJson(file), found);
    }
    return new SecretMasker(found);
  }

  values(): readonly string[] {
    return this.secrets;
  }

  /** This masker plus the secret-named values of `env` (a service's build settings such as NPM_TOKEN). */
  withSecretsOf(env: Record<string, string>): SecretMasker {
    return new SecretMasker([...this.secrets, ...Object.entries(env).flatMap(([name, value]) => (secretName.test(name) ? [value] : []))]);
  }

  apply(line: string): string {
    let masked = line;
    for (const secret of this.secrets) {
      if (masked.includes(secret)) masked = masked.split(secret).join(mask);
    }
    return masked;
  }
}

/** Passwords of `scheme://user:password@host` URLs in a value (several may be comma-separated). */
function urlPasswords(value: string): string[] {
  return [...value.matchAll(/[a-z][a-z0-9+.-]*:\/\/[^:@/\s]*:([^@/\s]+)@/gi)].map((m) => safeDecode(m[1]!));
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** `token` fields and URL passwords anywhere in a JSON document. */
function collectJsonSecrets(value: unknown, found: string[], key = ''): void {
  if (typeof value === 'string') {
    if (secretName.test(key)) found.push(value);
    found.push(...urlPasswords(value));
  } else if (Array.isArray(value)) {
    for (const item of value) collectJsonSecrets(item, found, key);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) collectJsonSecrets(v, found, k);
  }
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readText(file));
  } catch {
    return null;
  }
}
