import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { settings as settingDefinitions } from '../config/index.ts';
import { FleetcastError } from '../errors/index.ts';

/** Where the coordinator listens unless told otherwise (FLEETCAST_LISTEN's default). */
export const defaultApiUrl = `http://${settingDefinitions.FLEETCAST_LISTEN.default}`;

export interface ClientSettings {
  FLEETCAST_DATA_DIR: string;
  FLEETCAST_API_URL?: string | undefined;
  FLEETCAST_API_TOKEN?: string | undefined;
  FLEETCAST_API_CA?: string | undefined;
}

/** How a client reaches the coordinator, and where that came from (for messages). */
export interface ClientConfig {
  apiUrl: string;
  /** Where apiUrl came from, as a phrase: "set by --api-url / FLEETCAST_API_URL". */
  urlFrom: string;
  token: string | null;
  /** Every place looked at for a token, in order, for the message when none was found. */
  tokenPlaces: string[];
  /** PEM file of the CA an https:// coordinator's certificate is checked against; null: the system CAs. */
  ca: string | null;
}

// `fleetcast up` writes more (regions, processes…); clients need only these two.
const upFile = z.looseObject({ apiUrl: z.url().optional(), token: z.string().min(1).optional(), ca: z.string().min(1).optional() });

const loopback = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Finds the coordinator: FLEETCAST_API_URL / FLEETCAST_API_TOKEN (or --api-url, --api-token),
 * else `<data dir>/up.json` written by `fleetcast up`, else the default address with the admin
 * token the coordinator generated into `<data dir>/api-token`. That local token is only ever
 * sent to a coordinator on this machine, never to a remote URL. The CA to trust is
 * FLEETCAST_API_CA, else up.json's own CA when the URL came from up.json (its coordinator's
 * certificate was made by that CA), else the system's.
 */
export function resolveClientConfig(settings: ClientSettings): ClientConfig {
  const dataDir = settings.FLEETCAST_DATA_DIR;
  const upPath = path.join(dataDir, 'up.json');
  const up = readUpFile(upPath);
  const apiUrl = settings.FLEETCAST_API_URL ?? up?.apiUrl?.replace(/\/+$/, '') ?? defaultApiUrl;
  const urlFrom =
    settings.FLEETCAST_API_URL !== undefined
      ? 'set by --api-url / FLEETCAST_API_URL'
      : up?.apiUrl !== undefined
        ? `read from ${upPath}`
        : `the default (no --api-url / FLEETCAST_API_URL, no ${upPath})`;

  const tokenPath = path.join(dataDir, 'api-token');
  const tokenPlaces = ['--api-token / FLEETCAST_API_TOKEN', upPath];
  let token = settings.FLEETCAST_API_TOKEN ?? up?.token ?? null;
  if (token === null && loopback.has(new URL(apiUrl).hostname)) {
    tokenPlaces.push(tokenPath);
    token = readTokenFile(tokenPath);
  }
  const ca = settings.FLEETCAST_API_CA ?? (settings.FLEETCAST_API_URL === undefined ? up?.ca : undefined) ?? null;
  return { apiUrl, urlFrom, token, tokenPlaces, ca };
}

function readUpFile(file: string): z.output<typeof upFile> | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  try {
    return upFile.parse(JSON.parse(text));
  } catch (err) {
    throw new FleetcastError('CONFIG_INVALID', `${file} is not a valid up.json (${(err as Error).message.split('\n')[0]}); fix or delete it`, {
      file,
    });
  }
}

function readTokenFile(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim() || null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new FleetcastError('CONFIG_INVALID', `cannot read the API token file ${file}: ${(err as Error).message}`, { file });
  }
}
