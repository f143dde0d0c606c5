import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { eventually } from './eventually.ts';
import type { FaultInstallation } from './fault-installation.ts';
import { SampleRepo } from './git-repo.ts';

/**
 * The service the fault scenarios build and deploy: its build appends `<build> <pid>` to a marker
 * file per run (so runs can be counted against the attempts the queue recorded), sleeps as long
 * as the commit's `delay` says on its first run, not at all on a re-run (the sleep's pid goes to `<marker>.sleeps`), then writes `size`
 * random bytes. Machines run `sleep` as the service.
 */
export class FaultService {
  private constructor(
    readonly name: string,
    readonly repo: SampleRepo,
    readonly marker: string,
  ) {}

  private commits = 0;

  static async register(install: FaultInstallation, name = 'web'): Promise<FaultService> {
    const repo = SampleRepo.create();
    const marker = path.join(install.dir, `${name}-runs`);
    const service = new FaultService(name, repo, marker);
    fs.writeFileSync(marker, '');
    fs.writeFileSync(`${marker}.sleeps`, '');
    repo.commit({
      'build.sh': [
        '#!/bin/sh',
        // Only a build's first run is slow: a re-run after a kill finishes at once.
        'if grep -q "^$FLEETCAST_BUILD_ID " "$1"; then delay=0; else delay=$(cat delay); fi',
        'echo "$FLEETCAST_BUILD_ID $$" >> "$1"',
        'sleep "$delay" &',
        'echo "$FLEETCAST_BUILD_ID $!" >> "$1.sleeps"',
        'wait',
        'head -c "$(cat size)" /dev/urandom > "$FLEETCAST_OUT"',
        '',
      ].join('\n'),
      delay: '0',
      size: '1024',
    });
    await install.json(['service', 'add', name, '--repo', repo.dir, '--build', `sh build.sh ${marker}`, '--artifact', `out/${name}`, '--run', 'exec sleep 3600']);
    return service;
  }

  /** Commits a change that builds for `delaySeconds` into `size` bytes, queues it; the build id. */
  async queue(install: FaultInstallation, delaySeconds: number, size: number): Promise<string> {
    const commit = this.repo.commit({ delay: String(delaySeconds), size: String(size), nonce: String(++this.commits) }, `delay ${delaySeconds}, ${size} bytes`);
    const queued = await install.json(['build', this.name, commit]);
    return queued.id as string;
  }

  /** How many times the build command started for this build. */
  runs(build: string): number {
    return this.lines(this.marker).filter(([id]) => id === build).length;
  }

  /** The pids of the build's `sleep`, one per run. */
  sleeps(build: string): number[] {
    return this.lines(`${this.marker}.sleeps`)
      .filter(([id]) => id === build)
      .map(([, pid]) => Number(pid));
  }

  /** Waits until the build command of the build runs (its sleep started). */
  async running(build: string, timeoutMs = 30_000): Promise<number> {
    return eventually(() => this.sleeps(build).at(-1), timeoutMs, `the build command of ${build} to run`);
  }

  private lines(file: string): string[][] {
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' '));
  }
}

/** The build ended SUCCEEDED, its command ran exactly as often as the queue claimed it, every region holds it. */
export async function expectBuiltOnce(install: FaultInstallation, service: FaultService, id: string): Promise<any> {
  const build = await install.settled(id);
  expect(build.status, build.failureReason ?? '').toBe('SUCCEEDED');
  expect(service.runs(id), `runs of ${id}'s build command against its ${build.attempts} attempts`).toBe(build.attempts);
  expect(build.replication.map((r: { region: string; status: string }) => [r.region, r.status])).toEqual(install.regions.map((region) => [region, 'DONE']));
  expect(build.deployable).toBe(true);
  return build;
}

/** Every agent runs the build (current → it), its file's sha256 is the build's digest, every byte from peers. */
export function expectAgentsOn(install: FaultInstallation, service: string, build: { id: string; digest: string; size: number }): void {
  for (const agent of install.agents) {
    const dir = path.join(install.agentDir(install.machineOf(agent)), 'services', service);
    expect(fs.readlinkSync(path.join(dir, 'current')), agent.name).toBe(`builds/${build.id}`);
    const file = path.join(dir, 'builds', build.id, service);
    expect(createHash('sha256').update(fs.readFileSync(file)).digest('hex'), agent.name).toBe(build.digest);
    const marker = JSON.parse(fs.readFileSync(path.join(dir, 'builds', build.id, '.verified'), 'utf8'));
    // On failure, what the agent said about this build (why it gave up on its peers).
    const said = agent.logged(`${build.id}`).slice(-8).join('\n');
    expect(marker.fetched?.fromBucket, `${agent.name} read nothing from the bucket; its log:\n${said}`).toBe(0);
  }
}

/** Every build of the installation is terminal, and each SUCCEEDED one is copied to every region. */
export async function expectAllSettled(install: FaultInstallation): Promise<void> {
  const page = await install.json(['builds', '--limit', '100']);
  const builds = (page.builds ?? page) as { id: string; status: string; failureReason: string | null }[];
  expect(builds.length).toBeGreaterThan(0);
  for (const listed of builds) {
    const build = await install.settled(listed.id);
    expect(['SUCCEEDED', 'FAILED'], listed.id).toContain(build.status);
    if (build.status === 'FAILED') expect(build.failureReason, listed.id).toBeTruthy();
  }
}
