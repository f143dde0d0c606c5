import path from 'node:path';
import { FleetcastError } from '../../errors/index.ts';
import { validateService } from '../../goalstate/index.ts';

const buildPattern = /^b\d+$/;

/**
 * Where an agent keeps things (DESIGN.md, exact):
 *
 *     <agent dir>/agent.lock                          the live agent's pid (one agent per dir)
 *     <agent dir>/services/<service>/current          → builds/<build>, the running build
 *     <agent dir>/services/<service>/builds/<build>/<fileName>    the verified artifact
 *     <agent dir>/services/<service>/builds/<build>/.partial      a download in progress
 *     <agent dir>/services/<service>/builds/<build>/.verified     the mark: goal, size, mtime
 *     <agent dir>/services/<service>/process.json     the supervised process (pid, build)
 *     <agent dir>/services/<service>/switch.json      a switch not yet proven healthy
 *     <agent dir>/services/<service>/goal-seq.json    the highest goal sequence accepted (replays are refused)
 *     <agent dir>/services/<service>/logs/<build>.log the run command's output
 *
 * The agent's own files start with a dot inside a build's dir: a goal's fileName cannot
 * (goal-document.ts), so they never clash with the artifact.
 */
export class AgentLayout {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  get servicesDir(): string {
    return path.join(this.root, 'services');
  }

  get lockFile(): string {
    return path.join(this.root, 'agent.lock');
  }

  /** The P2P fetcher's cores: the blocks this machine holds and serves to its region. */
  get p2pDir(): string {
    return path.join(this.root, 'p2p');
  }

  serviceDir(service: string): string {
    return path.join(this.servicesDir, validateService(service));
  }

  buildsDir(service: string): string {
    return path.join(this.serviceDir(service), 'builds');
  }

  buildDir(service: string, build: string): string {
    return path.join(this.buildsDir(service), validateBuild(build));
  }

  artifact(service: string, build: string, fileName: string): string {
    return path.join(this.buildDir(service, build), fileName);
  }

  partial(service: string, build: string): string {
    return path.join(this.buildDir(service, build), '.partial');
  }

  marker(service: string, build: string): string {
    return path.join(this.buildDir(service, build), '.verified');
  }

  currentLink(service: string): string {
    return path.join(this.serviceDir(service), 'current');
  }

  processRecord(service: string): string {
    return path.join(this.serviceDir(service), 'process.json');
  }

  switchRecord(service: string): string {
    return path.join(this.serviceDir(service), 'switch.json');
  }

  goalSeqFile(service: string): string {
    return path.join(this.serviceDir(service), 'goal-seq.json');
  }

  logFile(service: string, build: string): string {
    return path.join(this.serviceDir(service), 'logs', `${validateBuild(build)}.log`);
  }
}

export function isBuildId(name: string): boolean {
  return buildPattern.test(name);
}

function validateBuild(build: string): string {
  if (!buildPattern.test(build)) throw new FleetcastError('INVALID_INPUT', `invalid build id ${JSON.stringify(build)}: build ids look like b42`, { build });
  return build;
}
