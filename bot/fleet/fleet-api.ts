import { ApiClient, streamEvents } from '../../api-client/index.ts';
// The auth folder's index, not the coordinator's: the bot must not load the server's modules.
import { onBehalfOfHeader, type SlackRequestSeenJson } from '../../api-contract/index.ts';
import { isFleetcastError } from '../../errors/index.ts';
import { onBehalfOf, type SlackUser } from '../slack/slack-user.ts';
import type { BuildInfo, BuildPageJson, DeployPreviewInfo, DeploymentEvent, DeploymentInfo, DeploymentListJson, LockJson, StatusInfo, WhoamiJson } from './fleet-json.ts';

const finalBuildStatuses = new Set(['SUCCEEDED', 'FAILED']);

/** A state change the coordinator may have done before: 200 (the same one back) instead of 201. */
export interface Outcome<T> {
  value: T;
  /** The coordinator answered 200: this idempotency key (or commit) was seen, nothing new happened. */
  repeated: boolean;
}

/**
 * The coordinator as the bot uses it, only through its HTTP API (the CLI's ApiClient).
 * Every change names the Slack user in x-fleetcast-on-behalf-of, so history and the audit log
 * show `slack:alice`; deploys and rollbacks carry an Idempotency-Key derived from the Slack
 * action, so a repeated click gets the same deployment back instead of a second one.
 */
export class FleetApi {
  constructor(readonly client: ApiClient) {}

  whoami(): Promise<WhoamiJson> {
    return this.client.get('/v1/whoami');
  }

  /** Reports a signed Slack request to the coordinator, shared by every bot replica: false when one saw it before (a replay). */
  async firstSlackRequest(signature: string, timestamp: string): Promise<boolean> {
    return (await this.client.post<SlackRequestSeenJson>('/v1/slack/requests', { signature, timestamp })).firstTime;
  }

  build(id: string): Promise<BuildInfo> {
    return this.client.get(`/v1/builds/${encodeURIComponent(id)}`);
  }

  builds(service: string, limit: number): Promise<BuildPageJson & { builds: BuildInfo[] }> {
    return this.client.get(`/v1/builds?service=${encodeURIComponent(service)}&limit=${limit}`);
  }

  status(service: string): Promise<StatusInfo> {
    return this.client.get(`/v1/services/${encodeURIComponent(service)}/status`);
  }

  deployments(service: string, limit: number): Promise<DeploymentListJson & { deployments: DeploymentInfo[] }> {
    return this.client.get(`/v1/deployments?service=${encodeURIComponent(service)}&limit=${limit}`);
  }

  async submitBuild(user: SlackUser, service: string, commit: string): Promise<Outcome<BuildInfo>> {
    const { status, body } = await this.client.json<BuildInfo>('POST', '/v1/builds', { service, commit }, actingFor(user));
    return { value: body, repeated: status === 200 };
  }

  async deploy(user: SlackUser, request: { build: string; regions?: string[] | undefined; waves?: string[][] | undefined; reason: string }, idempotencyKey: string): Promise<Outcome<DeploymentInfo>> {
    const body = { build: request.build, reason: request.reason, ...(request.regions ? { regions: request.regions } : {}), ...(request.waves ? { waves: request.waves } : {}) };
    const reply = await this.client.json<DeploymentInfo>('POST', '/v1/deployments', body, { ...actingFor(user), 'idempotency-key': idempotencyKey });
    return { value: reply.body, repeated: reply.status === 200 };
  }

  async rollback(user: SlackUser, service: string, request: { to?: string | undefined; regions?: string[] | undefined }, idempotencyKey: string): Promise<Outcome<DeploymentInfo>> {
    const body = { ...(request.to ? { to: request.to } : {}), ...(request.regions ? { regions: request.regions } : {}) };
    const reply = await this.client.json<DeploymentInfo>('POST', `/v1/services/${encodeURIComponent(service)}/rollback`, body, { ...actingFor(user), 'idempotency-key': idempotencyKey });
    return { value: reply.body, repeated: reply.status === 200 };
  }

  /**
   * What a deploy would do and every refusal it would get, judged by the coordinator (it changes
   * nothing). Asked for `user`, so the coordinator checks their Slack grant as it would at Deploy.
   */
  async previewDeploy(user: SlackUser, request: { build: string; regions?: string[] | undefined; waves?: string[][] | undefined }): Promise<DeployPreviewInfo> {
    const body = { build: request.build, ...(request.regions ? { regions: request.regions } : {}), ...(request.waves ? { waves: request.waves } : {}) };
    return (await this.client.json<DeployPreviewInfo>('POST', '/v1/deployments/preview', body, actingFor(user))).body;
  }

  /** What a rollback would do (the build it returns to, machines holding it in cache) and any refusal; changes nothing. */
  async previewRollback(user: SlackUser, service: string, request: { to?: string | undefined; regions?: string[] | undefined }): Promise<DeployPreviewInfo> {
    const body = { ...(request.to ? { to: request.to } : {}), ...(request.regions ? { regions: request.regions } : {}) };
    return (await this.client.json<DeployPreviewInfo>('POST', `/v1/services/${encodeURIComponent(service)}/rollback/preview`, body, actingFor(user))).body;
  }

  /** Pause, resume, promote or abort a rollout for `user` (idempotent on the coordinator: `replayed: true` when already in effect). */
  async control(user: SlackUser, action: 'pause' | 'resume' | 'promote' | 'abort', deployment: string, body: { reason?: string; wave?: number }): Promise<DeploymentInfo> {
    return (await this.client.json<DeploymentInfo>('POST', `/v1/deployments/${encodeURIComponent(deployment)}/${action}`, body, actingFor(user))).body;
  }

  async lock(user: SlackUser, service: string, reason: string): Promise<LockJson> {
    return (await this.client.json<LockJson>('POST', `/v1/services/${encodeURIComponent(service)}/lock`, { reason }, actingFor(user))).body;
  }

  async unlock(user: SlackUser, service: string): Promise<LockJson> {
    return (await this.client.json<LockJson>('DELETE', `/v1/services/${encodeURIComponent(service)}/lock`, undefined, actingFor(user))).body;
  }

  /**
   * Follows a deployment on /v1/events until its `final` event (converged, failed, aborted, rolled back or
   * superseded), calling `onEvent` for each. Resolves with the final event, or null when the
   * coordinator has no deployment subscription (an older one): the caller then shows the goal
   * written and no fleet progress.
   */
  async followDeployment(id: string, onEvent: (event: DeploymentEvent) => void, signal?: AbortSignal): Promise<DeploymentEvent | null> {
    try {
      return await streamEvents<DeploymentEvent>(this.client, {
        subscription: () => ({ subscribe: 'deployment', id }),
        onMessage: (message) => {
          if (message.type !== 'deployment' || message.deployment.id !== id) return undefined;
          const { type: _type, ...event } = message;
          onEvent(event);
          return event.final ? event : undefined;
        },
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (isFleetcastError(err, 'INVALID_INPUT')) return null;
      throw err;
    }
  }

  /** Waits on /v1/events until the build is SUCCEEDED or FAILED, then reads it whole (with its deployability). */
  async followBuild(id: string, signal?: AbortSignal): Promise<BuildInfo> {
    await streamEvents<true>(this.client, {
      subscription: () => ({ subscribe: 'build', id }),
      onMessage: (message) => (message.type === 'build' && finalBuildStatuses.has(message.build.status) ? true : undefined),
      ...(signal ? { signal } : {}),
    });
    return this.build(id);
  }
}

function actingFor(user: SlackUser): Record<string, string> {
  return { [onBehalfOfHeader]: onBehalfOf(user) };
}
