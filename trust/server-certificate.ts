import fs from 'node:fs';
import tls from 'node:tls';
import { FleetcastError } from '../errors/index.ts';
import { fileStamp } from './file-stamp.ts';

/** How often a listener looks whether its certificate or key file was replaced. */
const reloadCheckMs = 10_000;

/** What a Node TLS server needs: the certificate chain and its key, PEM. */
export interface CertificatePair {
  cert: Buffer;
  key: Buffer;
}

/**
 * The certificate an HTTP listener (the coordinator's API, the bot's /slack/events) serves, from
 * FLEETCAST_TLS_CERT / FLEETCAST_TLS_KEY. Renewal needs no restart: the files are looked at every
 * 10 s and, once both read and match, new connections get the new pair; a half-written or
 * mismatched pair is skipped (logged by the caller) and the old one kept.
 */
export class ServerCertificate {
  private stamp: string;
  /** The files' stamp when they last failed to load: said once, tried again when they change. */
  private failedStamp: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    readonly certFile: string,
    readonly keyFile: string,
    private pair: CertificatePair,
  ) {
    this.stamp = ServerCertificate.stampOf(certFile, keyFile);
  }

  /** Null when neither file is set (plain HTTP); both or neither, else CONFIG_INVALID. */
  static fromSettings(settings: { FLEETCAST_TLS_CERT?: string | undefined; FLEETCAST_TLS_KEY?: string | undefined }): ServerCertificate | null {
    const { FLEETCAST_TLS_CERT: cert, FLEETCAST_TLS_KEY: key } = settings;
    if (cert === undefined && key === undefined) return null;
    if (cert === undefined || key === undefined) {
      const missing = cert === undefined ? 'FLEETCAST_TLS_CERT (--tls-cert)' : 'FLEETCAST_TLS_KEY (--tls-key)';
      throw new FleetcastError('CONFIG_INVALID', `${missing} is not set: TLS needs both the certificate and its key; set both, or neither for plain HTTP`, {
        setting: missing.split(' ')[0],
      });
    }
    return new ServerCertificate(cert, key, ServerCertificate.read(cert, key));
  }

  /** Reads and checks the pair: a key that does not match the certificate fails here, not at the first handshake. */
  static read(certFile: string, keyFile: string): CertificatePair {
    const pair = { cert: readPem(certFile, 'FLEETCAST_TLS_CERT'), key: readPem(keyFile, 'FLEETCAST_TLS_KEY') };
    try {
      // createSecureContext is what the server does with them: it refuses a key of another certificate.
      tls.createSecureContext(pair);
    } catch (err) {
      throw new FleetcastError(
        'CONFIG_INVALID',
        `the TLS certificate ${certFile} and key ${keyFile} cannot be used together (${(err as Error).message}); check FLEETCAST_TLS_CERT and FLEETCAST_TLS_KEY name a certificate and its own key, PEM`,
        { certFile, keyFile },
      );
    }
    return pair;
  }

  /** The pair now, for `https.createServer`. */
  current(): CertificatePair {
    return this.pair;
  }

  /**
   * Keeps `server` serving the files' current pair. `onReload` hears each change (error set when
   * the new files could not be used, the old pair kept).
   */
  watch(server: tls.Server, onReload: (error: Error | null) => void): void {
    this.timer = setInterval(() => this.reloadIfChanged(server, onReload), reloadCheckMs);
    this.timer.unref();
  }

  /** One look at the files (what the timer does), for tests and callers that know a file changed. */
  reloadIfChanged(server: tls.Server, onReload: (error: Error | null) => void): 'unchanged' | 'reloaded' | 'failed' {
    const stamp = ServerCertificate.stampOf(this.certFile, this.keyFile);
    if (stamp === this.stamp || stamp === this.failedStamp) return 'unchanged';
    try {
      const pair = ServerCertificate.read(this.certFile, this.keyFile);
      server.setSecureContext(pair);
      this.pair = pair;
      this.stamp = stamp;
      this.failedStamp = undefined;
      onReload(null);
      return 'reloaded';
    } catch (err) {
      // The certificate and key are often written one after the other: tried again once either changes.
      this.failedStamp = stamp;
      onReload(err as Error);
      return 'failed';
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private static stampOf(certFile: string, keyFile: string): string {
    return `${fileStamp(certFile)}|${fileStamp(keyFile)}`;
  }
}

function readPem(file: string, setting: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new FleetcastError('CONFIG_INVALID', `cannot read ${file} (${setting}): ${(err as Error).message}`, { file, setting });
  }
}
