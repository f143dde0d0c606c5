import { toSqlTime, type Database } from '../../entities/index.ts';
import type { Logger } from '../../logging/index.ts';
import { redactRepoUrl } from '../../queue/services/index.ts';
import { isFinal, toDeployment, type Deployment } from '../deploys/index.ts';
import { GithubCursor } from './github-cursor.ts';
import { shortDescription, type CommitState, type DeploymentState } from './github-event.ts';
import type { GithubOutbox } from './github-outbox.ts';
import { githubRepoOf } from './github-repo.ts';

/** Rows looked at per table and round. */
const pageSize = 500;
/** How long after being rolled back a deployment behind the cursor is still looked at (rounds are seconds apart; a coordinator restarted within it adds what it missed). */
const rolledBackWindowMs = 60 * 60_000;

/**
 * Turns what happened to builds and deployments into GitHub events in the outbox: a commit
 * status per build state (pending, then success or failure), and per deployment one GitHub
 * deployment per region with its statuses (queued, in_progress, then success, failure or
 * inactive). It reads the tables rather than being called by the builders and the wave runner,
 * so every build and deploy is covered whoever started it, and a coordinator restarted mid-way
 * adds what it missed. Each event has a unique key: adding one twice adds it once.
 */
export class GithubEvents {
  /** What was added per build / deployment region (the number of states), so a round adds only what is new. */
  private readonly added = new Map<string, number>();

  private constructor(
    private readonly db: Database,
    private readonly outbox: GithubOutbox,
    private readonly builds: GithubCursor,
    private readonly deployments: GithubCursor,
    private readonly logger: Logger,
  ) {}

  static async open(db: Database, outbox: GithubOutbox, logger: Logger): Promise<GithubEvents> {
    return new GithubEvents(db, outbox, await GithubCursor.open(db, 'builds'), await GithubCursor.open(db, 'deployments'), logger);
  }

  async scan(): Promise<void> {
    const repos = await this.repos();
    await this.scanBuilds(repos);
    await this.scanDeployments(repos);
  }

  /** `owner/name` of each service whose repository is on GitHub (removed services too: their last builds still report). */
  private async repos(): Promise<Map<string, string>> {
    const rows = await this.db.query(`SELECT name, repo FROM services`);
    const repos = new Map<string, string>();
    for (const row of rows) {
      const repo = githubRepoOf(String(row.repo));
      if (repo) repos.set(String(row.name), `${repo.owner}/${repo.repo}`);
    }
    return repos;
  }

  private async scanBuilds(repos: Map<string, string>): Promise<void> {
    const rows = await this.db.query(`SELECT id, service, commit_sha, status, failure_reason FROM builds WHERE id > ? ORDER BY id LIMIT ${pageSize}`, [this.builds.value]);
    let done = this.builds.value;
    let open = false;
    for (const row of rows) {
      const id = Number(row.id);
      const status = String(row.status);
      const final = status === 'SUCCEEDED' || status === 'FAILED';
      const repo = repos.get(String(row.service));
      if (repo) {
        const states: [CommitState, string][] = [['pending', status === 'QUEUED' ? `b${id} queued` : `b${id} building`]];
        if (status === 'SUCCEEDED') states.push(['success', `b${id} built`]);
        // Failure reasons are masked by the builder; repository credentials are hidden here too, as everywhere they are shown.
        if (status === 'FAILED') states.push(['failure', `b${id} failed: ${redactRepoUrl(String(row.failure_reason ?? ''))}`]);
        await this.addStates(`build:${id}`, states.length, async (index) => {
          const [state, description] = states[index]!;
          await this.outbox.add(`build:${id}:${state}`, repo, { kind: 'commit-status', sha: String(row.commit_sha), state, context: 'fleetcast/build', description: shortDescription(description) });
        });
      }
      // The cursor passes only rows nothing more will happen to.
      if (!final) open = true;
      if (!open) done = id;
    }
    await this.advance(this.builds, done, 'build');
  }

  private async scanDeployments(repos: Map<string, string>): Promise<void> {
    const rows = await this.db.query(
      `SELECT d.*, b.commit_sha FROM deployments d JOIN builds b ON b.id = d.build_id WHERE d.id > ? ORDER BY d.id LIMIT ${pageSize}`,
      [this.deployments.value],
    );
    let done = this.deployments.value;
    let open = false;
    for (const row of rows) {
      const deployment = await this.addDeployment(row, repos);
      if (!isFinal(deployment)) open = true;
      if (!open) done = Number(row.id);
    }
    // A CONVERGED deployment the cursor has passed may be rolled back later (ROLLED_BACK: its
    // statuses end `inactive`): those changed lately are looked at again (each state is added once).
    const since = toSqlTime(this.db.dialect, new Date(Date.now() - rolledBackWindowMs));
    const rolledBack = await this.db.query(
      `SELECT d.*, b.commit_sha FROM deployments d JOIN builds b ON b.id = d.build_id WHERE d.id <= ? AND d.status = 'ROLLED_BACK' AND d.updated_at >= ? ORDER BY d.id LIMIT ${pageSize}`,
      [done, since],
    );
    for (const row of rolledBack) await this.addDeployment(row, repos);
    await this.advance(this.deployments, done, 'deploy');
  }

  /** The outbox events of one deployment row not yet added: per region, the GitHub deployment, then its statuses. */
  private async addDeployment(row: Record<string, unknown>, repos: Map<string, string>): Promise<Deployment> {
    const deployment = toDeployment(row);
    const repo = repos.get(deployment.service);
    if (!repo) return deployment;
    for (const region of deployment.regions) {
      const key = `deploy:${deployment.id}:${region}`;
      const states = regionStates(deployment, region);
      // The deployment first; then its statuses, which name it.
      await this.addStates(key, states.length + 1, async (index) => {
        if (index === 0) {
          await this.outbox.add(`${key}:create`, repo, {
            kind: 'deployment',
            sha: String(row.commit_sha),
            environment: region,
            task: deployment.kind === 'rollback' ? 'deploy:rollback' : 'deploy',
            description: shortDescription(`${deployment.kind} of ${deployment.build} by ${deployment.requestedBy}${deployment.reason ? `: ${deployment.reason}` : ''}`),
            payload: { deployment: deployment.id, build: deployment.build, kind: deployment.kind },
          });
          return;
        }
        const [state, description] = states[index - 1]!;
        await this.outbox.add(`${key}:${state}`, repo, { kind: 'deployment-status', deployment: `${key}:create`, environment: region, state, description: shortDescription(description) });
      });
    }
    return deployment;
  }

  /** Adds the states from the first not yet added (in order; added once per process, and once in all by their keys). */
  private async addStates(key: string, count: number, add: (index: number) => Promise<void>): Promise<void> {
    for (let index = this.added.get(key) ?? 0; index < count; index++) {
      await add(index);
      this.added.set(key, index + 1);
    }
  }

  private async advance(cursor: GithubCursor, to: number, prefix: string): Promise<void> {
    if (to <= cursor.value) return;
    await cursor.advance(to);
    // What the cursor has passed will not be looked at again: forget it.
    for (const key of this.added.keys()) {
      const id = Number(/^\w+:[bd]?(\d+)/.exec(key)?.[1]);
      if (key.startsWith(`${prefix}:`) && id <= to) this.added.delete(key);
    }
    this.logger.debug({ cursor: prefix, to }, 'GitHub events added up to here');
  }
}

/** The statuses of a deployment in one region so far, in the order GitHub should get them. */
function regionStates(deployment: Deployment, region: string): [DeploymentState, string][] {
  const wave = deployment.waves.find((w) => w.regions.includes(region));
  const states: [DeploymentState, string][] = [['queued', `${deployment.id}: waiting for its wave`]];
  const written = wave !== undefined && wave.status !== 'PENDING' && wave.status !== 'SKIPPED';
  if (written) states.push(['in_progress', `${deployment.id}: goal written in ${region}, machines switching`]);
  const converged = wave?.status === 'CONVERGED' || deployment.status === 'CONVERGED';
  if (converged) states.push(['success', `${deployment.id}: every machine of ${region} runs ${deployment.build}`]);
  if (!isFinal(deployment)) return states;
  const why = deployment.error ? `: ${deployment.error}` : '';
  if (deployment.status === 'ROLLED_BACK' || deployment.status === 'SUPERSEDED') states.push(['inactive', `${deployment.id} ${deployment.status.toLowerCase().replace('_', ' ')}${why}`]);
  else if (!converged) states.push(['failure', `${deployment.id} ${deployment.status.toLowerCase()}${why}`]);
  return states;
}
