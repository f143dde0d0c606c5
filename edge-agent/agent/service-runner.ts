import type { InstalledBuild } from './build-cache.ts';
import type { ProcessExit } from './process-supervisor.ts';

/** How a switched-to build gets running, and what the health check watches. */
export interface Activation {
  /** The process started for the build; null when the agent runs none (install only, a run hook). */
  exited: Promise<ProcessExit> | null;
}

/**
 * Runs a service's current build on this machine: by supervising its run command, or by
 * calling a run hook (systemd and the like). One runner per service.
 */
export interface ServiceRunner {
  /** At agent start: keep (adopt) or start what should run for `current`; stop what should not. */
  restore(current: InstalledBuild | null): Promise<void>;
  /** Before a switch: stop the old build (the agent never runs two builds of a service at once). */
  deactivate(): Promise<void>;
  /** After the switch: run `build`. */
  activate(build: InstalledBuild): Promise<Activation>;
  /** The last lines the build's process printed, for failure reasons. */
  lastLines(build: string): Promise<string>;
  /** Where the build's output goes, for the status report: a file, or the system that runs it (journald); undefined before there is any. */
  logLocation(build: string): string | undefined;
  /** Calls `listener` when the running build's process exits by itself or is restarted (supervised runs only). */
  watch(listener: (event: RunnerEvent) => void): void;
  /** Agent shutdown: `stopServices` false leaves processes running for the next agent to adopt. */
  close(options: { stopServices: boolean }): Promise<void>;
}

export type RunnerEvent =
  | { type: 'exited'; build: string; description: string; restartInMs: number }
  | { type: 'restarted'; build: string; restarts: number; lastExit: string };

/** The environment a service's command or the run hook gets (DESIGN.md). */
export interface ServiceIdentity {
  service: string;
  region: string;
  machine: string;
}

/**
 * The agent's environment without its own settings (FLEETCAST_NATS_URL may carry a password),
 * plus the build's identity.
 */
export function serviceEnvironment(identity: ServiceIdentity, build: string, extra: Record<string, string> = {}): Record<string, string> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined && !entry[0].startsWith('FLEETCAST_')));
  return {
    ...inherited,
    FLEETCAST_BUILD_ID: build,
    FLEETCAST_SERVICE: identity.service,
    FLEETCAST_REGION: identity.region,
    FLEETCAST_MACHINE: identity.machine,
    ...extra,
  };
}
