import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Files of a local CA and the certificates it signed for one installation's NATS servers and HTTP API. */
export interface LocalTlsFiles {
  /** The CA certificate every client and server trusts (FLEETCAST_NATS_CA). */
  ca: string;
  /** The servers' certificate (client port and leaf-node port), for 127.0.0.1 and localhost. */
  serverCert: string;
  serverKey: string;
  /** The leaves' client certificate on their links to the hub (mutual TLS). */
  leafCert: string;
  leafKey: string;
  /** The coordinator's HTTP API certificate (FLEETCAST_TLS_CERT / _KEY), for 127.0.0.1 and localhost. */
  apiCert: string;
  apiKey: string;
}

/**
 * A CA made once in `dir` (`ca.key` never leaves it) and the certificates of a one-machine
 * installation (its NATS servers, the leaves' links, the coordinator's API), with the `openssl` CLI: what `fleetcast up` runs its NATS servers with. Kept
 * across runs of `up` on the same dir; a certificate within 30 days of its end is made again.
 */
export function ensureLocalTls(dir: string): LocalTlsFiles {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = (name: string) => path.join(dir, name);
  const files: LocalTlsFiles = { ca: file('ca.crt'), serverCert: file('server.crt'), serverKey: file('server.key'), leafCert: file('leaf.crt'), leafKey: file('leaf.key'), apiCert: file('api.crt'), apiKey: file('api.key') };
  if (!valid(files.ca)) {
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file('ca.key'), '-out', files.ca, '-days', '3650', '-subj', '/CN=fleetcast local CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    fs.rmSync(files.serverCert, { force: true });
    fs.rmSync(files.leafCert, { force: true });
    fs.rmSync(files.apiCert, { force: true });
  }
  if (!valid(files.serverCert)) issue(dir, 'server', '/CN=fleetcast NATS', 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth');
  if (!valid(files.leafCert)) issue(dir, 'leaf', '/CN=fleetcast NATS leaf', 'extendedKeyUsage=clientAuth');
  if (!valid(files.apiCert)) issue(dir, 'api', '/CN=fleetcast API', 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth');
  for (const name of ['ca.key', 'server.key', 'leaf.key', 'api.key']) fs.chmodSync(file(name), 0o600);
  return files;
}

function issue(dir: string, name: string, subject: string, extensions: string): void {
  const file = (suffix: string) => path.join(dir, `${name}.${suffix}`);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file('key'), '-out', file('csr'), '-subj', subject]);
  fs.writeFileSync(file('ext'), `${extensions}\n`);
  openssl(['x509', '-req', '-in', file('csr'), '-CA', path.join(dir, 'ca.crt'), '-CAkey', path.join(dir, 'ca.key'), '-CAcreateserial', '-out', file('crt'), '-days', '825', '-extfile', file('ext')]);
  fs.rmSync(file('csr'));
  fs.rmSync(file('ext'));
}

/** Exists and does not end within 30 days. */
function valid(cert: string): boolean {
  if (!fs.existsSync(cert)) return false;
  try {
    execFileSync('openssl', ['x509', '-checkend', String(30 * 24 * 3600), '-noout', '-in', cert], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed (is the openssl CLI installed?): ${String((err as { stderr?: Buffer }).stderr ?? err)}`);
  }
}
