/** The PATH builds get: the system's programs, nothing from the worker's own PATH. */
export const buildPath = '/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin';

export interface BuildEnvironmentFacts {
  buildId: string;
  service: string;
  commit: string;
  /** Absolute path of the artifact the build writes. */
  out: string;
  home: string;
  tmp: string;
  /** The service's declared build settings (fleetcast service add --build-env NAME=VALUE). */
  settings: Record<string, string>;
}

/**
 * The whole environment of a build command, built from an allow-list: never a copy of the
 * worker's, which holds the database URL, NATS credentials and tokens.
 */
export function buildEnvironment(facts: BuildEnvironmentFacts): Record<string, string> {
  return {
    ...facts.settings,
    PATH: buildPath,
    HOME: facts.home,
    TMPDIR: facts.tmp,
    LANG: 'C.UTF-8',
    FLEETCAST_BUILD_ID: facts.buildId,
    FLEETCAST_SERVICE: facts.service,
    FLEETCAST_COMMIT: facts.commit,
    FLEETCAST_OUT: facts.out,
  };
}
