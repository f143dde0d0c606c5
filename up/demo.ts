import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiClient, resolveClientConfig, streamEvents } from '../api-client/index.ts';
import type { BuildJson, DeploymentJson, DeploymentProgressJson } from '../api-contract/index.ts';
import { formatBytes } from '../config/index.ts';
import { FleetcastError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';
import { runUp, type UpHandle } from './run-up.ts';

export interface DemoOptions {
  /** @defaultValue a new temporary directory, removed at the end unless `keep` */
  dir?: string;
  /** Keep the directory, and the installation up after the story until `untilStopped` resolves (Ctrl-C): the dashboard stays open. */
  keep?: boolean;
  /** @defaultValue resolves at once */
  untilStopped?: () => Promise<void>;
  regions?: string[];
  agentsPerRegion?: number;
  /** Artifact size: enough blocks for the agents to share. @defaultValue 6 MiB */
  artifactBytes?: number;
  say: (line: string) => void;
  logger: Logger;
}

export interface DemoPhase {
  phase: string;
  ms: number;
  detail: string;
}

export interface DemoSummary {
  dir: string;
  phases: DemoPhase[];
  /** Bytes the agents' installed builds took from peers and from the regional buckets. */
  bytes: { fromPeers: number; fromBucket: number };
}

const service = 'demo';

/**
 * The fleetcast story on one machine: a sample service in a local git repository, a whole
 * installation (`fleetcast up`), build commit 1, wait for its copies in every region, deploy it
 * everywhere (canary first) and watch the agents converge, build and deploy commit 2, roll
 * back to 1 — then a table of how long each phase took and where the agents' bytes came from.
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const dir = path.resolve(options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-demo-')));
  const { say } = options;
  const phases: DemoPhase[] = [];
  const timed = async <T>(phase: string, work: () => Promise<T>, detail: (value: T) => string): Promise<T> => {
    const started = Date.now();
    const value = await work();
    const entry = { phase, ms: Date.now() - started, detail: detail(value) };
    phases.push(entry);
    say(`  ✓ ${phase} (${(entry.ms / 1000).toFixed(1)} s): ${entry.detail}`);
    return value;
  };

  const repo = createSampleRepo(path.join(dir, 'demo-repo'), options.artifactBytes ?? 6 * 1024 * 1024);
  say(`sample service "${service}" in ${repo.dir}`);
  let up: UpHandle | undefined;
  try {
    up = await timed('start the installation', () => runUp({ dir, regions: options.regions ?? ['eu', 'us', 'ap'], agentsPerRegion: options.agentsPerRegion ?? 2, workers: 1, logger: options.logger }), (u) => `${u.processes.length} processes and ${u.cluster.regions.length + 1} NATS servers, API ${u.file.apiUrl}`);
    const clientConfig = resolveClientConfig({ FLEETCAST_DATA_DIR: dir });
    const client = new ApiClient(clientConfig);
    // Watch the story in a browser while it runs: the page signs in with this token once.
    say(`dashboard: ${up.file.apiUrl}/dashboard/ (sign in with the token ${clientConfig.token}; its certificate is signed by the installation's own CA, ${up.file.ca ?? '<dir>/tls/ca.crt'}: trust it in the browser or accept the warning)`);
    await client.post('/v1/services', { name: service, repo: repo.dir, buildCommand: 'sh build.sh', artifactPath: 'out/app', runCommand: './app' });

    const first = await timed('build commit 1', () => build(client, repo.commits[0]!), (b) => `${b.id}, ${formatBytes(b.size ?? 0)}, sha256 ${b.digest?.slice(0, 12)}…`);
    await timed('replicate to every region', () => deployable(client, first.id), (b) => `${b.id} verified in ${b.replication?.map((r) => r.region).join(', ')}`);
    const d1 = await timed('deploy 1 everywhere (canary first)', () => deploy(client, '/v1/deployments', { build: first.id }), converged);
    const second = await timed('build commit 2', () => build(client, repo.commits[1]!), (b) => b.id);
    await timed('replicate 2', () => deployable(client, second.id), (b) => `${b.id} in every region`);
    await timed('deploy 2 everywhere', () => deploy(client, '/v1/deployments', { build: second.id }), converged);
    const back = await timed('roll back to 1 (no transfer: cached)', () => deploy(client, `/v1/services/${service}/rollback`, { to: first.id }), converged);
    if (back.deployment.build !== d1.deployment.build) throw new FleetcastError('INTERNAL', `the rollback went to ${back.deployment.build}, not ${d1.deployment.build}`);
    await client.delete(`/v1/services/${service}/lock`);
    const summary = { dir, phases, bytes: fetchedBytes(dir) };
    if (options.keep && options.untilStopped) {
      say(`\nthe installation stays up (--keep): dashboard ${up.file.apiUrl}/dashboard/, token ${clientConfig.token}; Ctrl-C stops it`);
      await options.untilStopped();
    }
    return summary;
  } finally {
    await up?.stop();
    if (!options.keep && options.dir === undefined) fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function summaryTable(summary: DemoSummary): string {
  const width = Math.max(...summary.phases.map((p) => p.phase.length));
  const lines = summary.phases.map((p) => `  ${p.phase.padEnd(width)}  ${(p.ms / 1000).toFixed(1).padStart(6)} s  ${p.detail}`);
  const total = summary.bytes.fromPeers + summary.bytes.fromBucket;
  const share = total > 0 ? Math.round((100 * summary.bytes.fromPeers) / total) : 0;
  lines.push('', `  bytes the agents fetched: ${formatBytes(summary.bytes.fromPeers)} from peers, ${formatBytes(summary.bytes.fromBucket)} from the regional buckets (${share} % from peers)`);
  return lines.join('\n');
}

function converged(progress: DeploymentProgressJson): string {
  const machines = progress.progress.reduce((sum, p) => sum + p.running, 0);
  return `${progress.deployment.id}: ${machines} machines run ${progress.deployment.build} in ${progress.deployment.regions.join(', ')}`;
}

async function build(client: ApiClient, commit: string): Promise<BuildJson> {
  const queued = await client.post<BuildJson>('/v1/builds', { service, commit });
  const done = await streamEvents<BuildJson>(client, {
    subscription: () => ({ subscribe: 'build', id: queued.id }),
    onMessage: (m) => (m.type === 'build' && (m.build.status === 'SUCCEEDED' || m.build.status === 'FAILED') ? m.build : undefined),
  });
  if (done.status !== 'SUCCEEDED') throw new FleetcastError('INTERNAL', `${done.id} FAILED: ${done.failureReason}`);
  return done;
}

/** Copies have no event stream yet: ask every half second (a few requests). */
async function deployable(client: ApiClient, id: string): Promise<BuildJson> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const current = await client.get<BuildJson>(`/v1/builds/${id}`);
    if (current.deployable) return current;
    if (Date.now() > deadline) throw new FleetcastError('TIMED_OUT', `${id} not deployable after 2 min: ${current.deployableReason}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function deploy(client: ApiClient, urlPath: string, body: Record<string, unknown>): Promise<DeploymentProgressJson> {
  const deployment = await client.post<DeploymentJson>(urlPath, body);
  const final = await streamEvents<DeploymentProgressJson>(client, {
    subscription: () => ({ subscribe: 'deployment', id: deployment.id }),
    onMessage: (m) => (m.type === 'deployment' && m.final ? m : undefined),
  });
  if (!final.deployment.convergedAt) throw new FleetcastError('INTERNAL', `${deployment.id} did not converge: ${final.deployment.status} ${final.deployment.error ?? ''}`);
  return final;
}

/** Sums what every agent's verified builds record about where their bytes came from. */
function fetchedBytes(dir: string): { fromPeers: number; fromBucket: number } {
  const total = { fromPeers: 0, fromBucket: 0 };
  const agents = path.join(dir, 'agents');
  for (const agent of fs.existsSync(agents) ? fs.readdirSync(agents) : []) {
    const builds = path.join(agents, agent, 'services', service, 'builds');
    for (const build of fs.existsSync(builds) ? fs.readdirSync(builds) : []) {
      const marker = path.join(builds, build, '.verified');
      if (!fs.existsSync(marker)) continue;
      const fetched = (JSON.parse(fs.readFileSync(marker, 'utf8')) as { fetched?: { fromPeers: number; fromBucket: number } }).fetched;
      total.fromPeers += fetched?.fromPeers ?? 0;
      total.fromBucket += fetched?.fromBucket ?? 0;
    }
  }
  return total;
}

/**
 * A git repository whose build writes `out/app`: a shell script that says which version it is
 * and stays up (so the agents' health check passes), padded to `bytes` so it spans several
 * P2P blocks. Two commits: version 1 and version 2.
 */
function createSampleRepo(dir: string, bytes: number): { dir: string; commits: string[] } {
  fs.mkdirSync(dir, { recursive: true });
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } }).trim();
  git('init', '--quiet', '--initial-branch=main');
  git('config', 'user.name', 'Demo Developer');
  git('config', 'user.email', 'dev@example.com');
  fs.writeFileSync(
    path.join(dir, 'build.sh'),
    [
      '#!/bin/sh',
      '# The demo service: a script that prints its version and stays up, padded to span several blocks.',
      'set -e',
      'mkdir -p "$(dirname "$FLEETCAST_OUT")"',
      '{',
      "  printf '#!/bin/sh\\necho \"demo %s running as %s on %s\"\\nexec sleep 1000000\\n' \"$(cat VERSION)\" \"$FLEETCAST_BUILD_ID\" '$FLEETCAST_MACHINE'",
      `  head -c ${bytes} /dev/urandom | od -An -tx1 | head -c ${bytes} | sed 's/^/# /'`,
      '} > "$FLEETCAST_OUT"',
      'chmod +x "$FLEETCAST_OUT"',
      '',
    ].join('\n'),
  );
  const commits: string[] = [];
  for (const version of ['1', '2']) {
    fs.writeFileSync(path.join(dir, 'VERSION'), `${version}\n`);
    git('add', '--all');
    git('commit', '--quiet', '-m', `demo version ${version}`);
    commits.push(git('rev-parse', 'HEAD'));
  }
  return { dir, commits };
}
