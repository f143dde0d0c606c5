import { z } from 'zod';

const regionName = z.string().regex(/^[a-z0-9-]+$/, 'region names are lower-case letters, digits and dashes');

/**
 * The rollout, window and gate sections of a repository's fleetcast.yml, validated for shape and
 * stored with the build as written: the continuous-deploy, freeze-window and pre-deploy-check
 * code gives them their meaning. Kept loose (extra keys pass) so those features can grow them.
 */
export const buildConfigSections = {
  /** How a deploy of the build rolls out: `canary`, `all`, `eu;us,ap` (as FLEETCAST_DEPLOY_WAVES) or a list of waves of regions. */
  waves: z.union([
    z.string().trim().regex(/^(canary|all|[a-z0-9-]+(,[a-z0-9-]+)*(;[a-z0-9-]+(,[a-z0-9-]+)*)*)$/, 'write canary, all, waves such as eu;us,ap, or a list of lists of regions'),
    z.array(z.array(regionName).min(1, 'a wave names at least one region')).min(1, 'give at least one wave'),
  ]),
  /** When deploys may (or may not) happen, e.g. `{ deny: "Fri 16:00 - Mon 08:00", zone: Europe/Paris }`. */
  windows: z
    .array(
      z.looseObject({
        allow: z.string().min(1).optional(),
        deny: z.string().min(1).optional(),
        zone: z.string().min(1).optional(),
        reason: z.string().optional(),
      }).refine((w) => (w.allow === undefined) !== (w.deny === undefined), 'a window says either allow or deny'),
    )
    .max(100),
  /** Checks that must pass before a deploy starts: a command (run in the build sandbox) or an HTTP URL. */
  gates: z
    .array(
      z.looseObject({
        name: z.string().min(1).max(200).optional(),
        command: z.string().min(1).max(4000).optional(),
        url: z.url({ protocol: /^https?$/, error: 'a gate URL must be an http(s) URL' }).optional(),
        timeout: z.string().optional(),
      }).refine((g) => (g.command === undefined) !== (g.url === undefined), 'a gate has either a command or a url'),
    )
    .max(50),
};

/** What a build recorded it used: the commands and health check it was built and will run with, and where they came from. */
export const buildConfig = z.object({
  /** `fleetcast.yml` when the repository had one at the built commit; `service` otherwise. */
  source: z.enum(['fleetcast.yml', 'service']),
  waves: buildConfigSections.waves.optional(),
  windows: buildConfigSections.windows.optional(),
  gates: buildConfigSections.gates.optional(),
});

export type BuildConfig = z.output<typeof buildConfig>;

/** What a build used, recorded when it succeeds; a deploy or rollback of the build runs these. */
export interface BuildUsed {
  buildCommand: string;
  artifact: string;
  runCommand: string | null;
  healthUrl: string | null;
  config: BuildConfig;
}
