import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/rest';
import { backoffDelay } from '../../lifecycle/index.ts';
import type { Logger } from '../../logging/index.ts';
import type { GithubEvent } from './github-event.ts';
import type { GithubOutbox, OutboxRow } from './github-outbox.ts';

/**
 * How fleetcast signs in to GitHub: a token (FLEETCAST_GITHUB_TOKEN: classic with repo:status and
 * repo_deployment, or fine-grained with commit statuses and deployments: write), or a GitHub App
 * installation (its installation tokens are made and renewed from the private key as needed).
 */
export type GithubAuth = { token: string } | { appId: number; installationId: number; privateKey: string };

export interface GithubDeliveryOptions {
  auth: GithubAuth;
  /** FLEETCAST_GITHUB_API_URL. @defaultValue https://api.github.com */
  apiUrl?: string;
  /** Rows sent per round. @defaultValue 100 */
  batch?: number;
  /** Each call's time limit. @defaultValue 10 s */
  timeoutMs?: number;
  /** Pause before the first retry of a call, doubling up to 10 minutes. @defaultValue 2 s */
  retryMs?: number;
  /** A call GitHub refuses for good (4xx other than 403/408/429) is given up after this many tries. @defaultValue 5 */
  giveUpAfter?: number;
  logger: Logger;
}

const maxRetryMs = 10 * 60_000;

/**
 * Sends the outbox to GitHub through @octokit/rest, oldest first. Order holds per repository: a
 * row that fails (GitHub down, rate-limited) holds back the later rows of its repository until
 * it went through, so a deployment's statuses never overtake it or each other.
 */
export class GithubDelivery {
  private readonly octokit: Octokit;
  private readonly batch: number;
  private readonly timeoutMs: number;
  private readonly retryMs: number;
  private readonly giveUpAfter: number;

  constructor(
    private readonly outbox: GithubOutbox,
    private readonly options: GithubDeliveryOptions,
  ) {
    const { logger } = options;
    const { auth } = options;
    this.octokit = new Octokit({
      ...('token' in auth ? { auth: auth.token } : { authStrategy: createAppAuth, auth: { appId: auth.appId, installationId: auth.installationId, privateKey: auth.privateKey } }),
      baseUrl: (options.apiUrl ?? 'https://api.github.com').replace(/\/+$/, ''),
      userAgent: 'fleetcast',
      // Octokit logs failed requests itself: ours say which event and when it is tried again.
      log: { debug: () => undefined, info: () => undefined, warn: (message: string) => logger.debug({ github: message }, 'GitHub client'), error: () => undefined },
    });
    this.batch = options.batch ?? 100;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.retryMs = options.retryMs ?? 2_000;
    this.giveUpAfter = options.giveUpAfter ?? 5;
  }

  /** One round: sends what is due; returns how many rows were delivered. */
  async deliver(): Promise<number> {
    const held = new Set<string>();
    let delivered = 0;
    for (const row of await this.outbox.pending(this.batch)) {
      if (held.has(row.repo)) continue;
      if (row.nextAttemptAt.getTime() > Date.now() || !(await this.outbox.lease(row, this.timeoutMs * 3))) {
        held.add(row.repo);
        continue;
      }
      const attempt = row.attempts + 1;
      try {
        const githubId = await this.send(row);
        if (githubId === undefined) {
          // Its deployment is not created yet (another coordinator's lease): try again next round.
          await this.outbox.failed(row.id, 'waiting for its deployment to be created', new Date());
          held.add(row.repo);
          continue;
        }
        await this.outbox.delivered(row.id, githubId);
        delivered++;
      } catch (err) {
        const status = (err as { status?: number }).status;
        const message = err instanceof Error ? err.message : String(err);
        const refused = status !== undefined && status >= 400 && status < 500 && ![403, 408, 429].includes(status);
        if (refused && attempt >= this.giveUpAfter) {
          this.options.logger.error({ err, event: row.key, repo: row.repo, status }, `GitHub refused ${row.key} ${attempt} times (${message}); given up, the next events of ${row.repo} go on`);
          await this.outbox.delivered(row.id, null, `given up: ${message}`);
          continue;
        }
        const pause = backoffDelay(attempt, { initialMs: this.retryMs, maxMs: maxRetryMs, jitter: 0.2 });
        this.options.logger.warn({ event: row.key, repo: row.repo, status, attempt }, `could not send ${row.key} to GitHub (${message}); trying again in ${Math.round(pause / 1000)} s, later events of ${row.repo} wait`);
        await this.outbox.failed(row.id, message, new Date(Date.now() + pause));
        held.add(row.repo);
      }
    }
    return delivered;
  }

  /** Makes the call; GitHub's id of what it created (null for a status), undefined when it must wait. */
  private async send(row: OutboxRow): Promise<number | null | undefined> {
    const [owner, repo] = row.repo.split('/') as [string, string];
    const request = { signal: AbortSignal.timeout(this.timeoutMs) };
    const event: GithubEvent = row.event;
    switch (event.kind) {
      case 'commit-status':
        await this.octokit.rest.repos.createCommitStatus({ owner, repo, sha: event.sha, state: event.state, context: event.context, description: event.description, request });
        return null;
      case 'deployment': {
        const created = await this.octokit.rest.repos.createDeployment({
          owner,
          repo,
          ref: event.sha,
          environment: event.environment,
          task: event.task,
          description: event.description,
          payload: event.payload,
          // fleetcast decided to deploy: GitHub should neither merge branches nor check statuses first.
          auto_merge: false,
          required_contexts: [],
          production_environment: true,
          request,
        });
        const id = (created.data as { id?: number }).id;
        if (typeof id !== 'number') throw new Error(`GitHub did not create the deployment: ${JSON.stringify(created.data).slice(0, 200)}`);
        return id;
      }
      case 'deployment-status': {
        const deploymentId = await this.outbox.githubId(event.deployment);
        if (deploymentId === undefined) return undefined;
        // Its deployment was given up: there is nothing to attach the status to.
        if (deploymentId === null) return null;
        await this.octokit.rest.repos.createDeploymentStatus({ owner, repo, deployment_id: deploymentId, state: event.state, description: event.description, environment: event.environment, auto_inactive: true, request });
        return null;
      }
    }
  }
}
