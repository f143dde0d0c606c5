import fs from 'node:fs';
import { FleetcastError } from '../../errors/index.ts';
import type { GithubAuth } from './github-delivery.ts';

export interface GithubAuthSettings {
  FLEETCAST_GITHUB_TOKEN?: string | undefined;
  FLEETCAST_GITHUB_APP_ID?: number | undefined;
  FLEETCAST_GITHUB_APP_INSTALLATION?: number | undefined;
  FLEETCAST_GITHUB_APP_KEY?: string | undefined;
}

/**
 * The GitHub sign-in the settings give, checked at start: a token, or a GitHub App's id,
 * installation and key file (all three); null when none is set (GitHub is not told). Half an
 * App, or both a token and an App, stops the start with CONFIG_INVALID naming the settings.
 */
export function githubAuth(settings: GithubAuthSettings): GithubAuth | null {
  const app = [settings.FLEETCAST_GITHUB_APP_ID, settings.FLEETCAST_GITHUB_APP_INSTALLATION, settings.FLEETCAST_GITHUB_APP_KEY];
  const appSet = app.some((value) => value !== undefined);
  if (settings.FLEETCAST_GITHUB_TOKEN !== undefined && appSet) {
    throw new FleetcastError('CONFIG_INVALID', 'set FLEETCAST_GITHUB_TOKEN or the FLEETCAST_GITHUB_APP_* settings, not both');
  }
  if (settings.FLEETCAST_GITHUB_TOKEN !== undefined) return { token: settings.FLEETCAST_GITHUB_TOKEN };
  if (!appSet) return null;
  if (app.some((value) => value === undefined)) {
    throw new FleetcastError('CONFIG_INVALID', 'a GitHub App needs all of FLEETCAST_GITHUB_APP_ID, FLEETCAST_GITHUB_APP_INSTALLATION and FLEETCAST_GITHUB_APP_KEY');
  }
  let privateKey: string;
  try {
    privateKey = fs.readFileSync(settings.FLEETCAST_GITHUB_APP_KEY!, 'utf8');
  } catch (err) {
    throw new FleetcastError('CONFIG_INVALID', `cannot read FLEETCAST_GITHUB_APP_KEY ${settings.FLEETCAST_GITHUB_APP_KEY}: ${(err as Error).message}`, {}, { cause: err });
  }
  if (!/-----BEGIN (RSA )?PRIVATE KEY-----/.test(privateKey)) {
    throw new FleetcastError('CONFIG_INVALID', `FLEETCAST_GITHUB_APP_KEY ${settings.FLEETCAST_GITHUB_APP_KEY} is not a PEM private key (download it from the App's settings → Private keys)`);
  }
  return { appId: settings.FLEETCAST_GITHUB_APP_ID!, installationId: settings.FLEETCAST_GITHUB_APP_INSTALLATION!, privateKey };
}
