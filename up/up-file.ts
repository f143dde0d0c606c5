import fs from 'node:fs';
import path from 'node:path';

/** `<dir>/up.json`, as DESIGN.md fixes it: where everything of a local installation is. */
export interface UpFile {
  apiUrl: string;
  token: string;
  regions: string[];
  /**
   * The NATS hub's client URL (no credentials: each process presents its own creds file,
   * `<dir>/nats-identities/creds/`); with `--ha` every hub server's, comma-separated — the form
   * FLEETCAST_NATS_URL takes.
   */
  hub: string;
  /** Each region's leaf (no credentials, as `hub`; with `--ha` its servers comma-separated). */
  leaves: Record<string, string>;
  /** The hub's servers one by one (one entry without `--ha`). */
  hubServers?: string[];
  /** Each region's leaf servers one by one. */
  leafServers?: Record<string, string[]>;
  /** Every coordinator's API address; `apiUrl` is the first. With `--ha` there are two. */
  apiUrls?: string[];
  /**
   * The installation's CA: it signed the NATS servers' certificates (`hub` and `leaves` are
   * `tls://`; FLEETCAST_NATS_CA for a client) and the coordinator's (`apiUrl` is https://; client
   * commands reading up.json trust it, FLEETCAST_API_CA elsewhere).
   */
  ca?: string;
  processes: { role: string; region?: string; machine?: string; pid: number }[];
}

export function upFilePath(dir: string): string {
  return path.join(dir, 'up.json');
}

/** Written whole (temp + rename): a client never reads half a file. Mode 0600: it holds the admin token. */
export function writeUpFile(dir: string, contents: UpFile): void {
  const file = upFilePath(dir);
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(contents, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(temp, file);
}

export function removeUpFile(dir: string): void {
  fs.rmSync(upFilePath(dir), { force: true });
}
