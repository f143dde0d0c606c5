import fs from 'node:fs/promises';
import path from 'node:path';
import type { Build, BuildUsed } from '../queue/index.ts';
import type { Service } from '../queue/services/index.ts';
import { BuildFailure } from './build-failure.ts';
import { FleetcastFileError, fleetcastFileName, maxFleetcastFileBytes, parseFleetcastFile, storedSections } from './fleetcast-file.ts';

/** How one build is made and what it will run: the service's settings, overridden by the repository's fleetcast.yml. */
export interface BuildPlan {
  used: BuildUsed;
}

/**
 * Reads fleetcast.yml at the root of the checkout (the built commit). Absent: the service's
 * settings. A file that cannot be used fails the build with the reason and line, rather than
 * quietly building with other settings than the repository asks for.
 */
export async function readBuildPlan(workspace: string, service: Service, build: Build): Promise<BuildPlan> {
  const fromService: BuildUsed = {
    buildCommand: service.buildCommand,
    artifact: build.artifact,
    runCommand: service.runCommand,
    healthUrl: service.healthUrl,
    config: { source: 'service' },
  };
  const file = path.join(workspace, fleetcastFileName);
  const stats = await fs.lstat(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (stats === null) return { used: fromService };
  // A symlink could make the worker read a file outside the checkout.
  if (!stats.isFile()) throw new BuildFailure(`${fleetcastFileName} is not a regular file (a symlink or a directory); commit the file itself`);
  if (stats.size > maxFleetcastFileBytes) throw new BuildFailure(`${fleetcastFileName} is ${stats.size} bytes; at most ${maxFleetcastFileBytes} are read`);
  try {
    const parsed = parseFleetcastFile(await fs.readFile(file, 'utf8'));
    return {
      used: {
        buildCommand: parsed.build ?? fromService.buildCommand,
        artifact: parsed.artifact ?? fromService.artifact,
        runCommand: parsed.run === undefined ? fromService.runCommand : parsed.run,
        healthUrl: parsed.health === undefined ? fromService.healthUrl : parsed.health,
        config: { source: 'fleetcast.yml', ...storedSections(parsed) },
      },
    };
  } catch (err) {
    if (err instanceof FleetcastFileError) throw new BuildFailure(err.message);
    throw err;
  }
}
