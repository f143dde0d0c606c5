import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { FleetcastError } from '../../../errors/index.ts';
import type { ApiContext } from '../api-context.ts';
import { buildJson, toBuildJson } from '../build-json.ts';
import { parseInput } from '../parse-input.ts';
import { isDeletion, pushEvent, servicesForPush } from '../webhook/push-event.ts';
import { auditChange } from '../audit-change.ts';
import { DeliveryLog } from '../webhook/delivery-log.ts';
import { toErrorJson } from '../error-json.ts';
import { formatBytes } from '../../../config/index.ts';
import { formatBuildId } from '../../../queue/index.ts';
import { verifySignature } from '../webhook/signature.ts';

export const gitHookPath = '/v1/hooks/git';

export const gitHookReply = z
  .object({
    builds: z.array(buildJson).meta({ description: 'the builds this push queued (or found already QUEUED/RUNNING)' }),
    ignored: z.string().optional().meta({ description: 'why nothing was queued: another event, a deleted branch' }),
    replay: z.boolean().optional().meta({ description: 'this delivery id was seen before; nothing new was queued' }),
  })
  .meta({ id: 'GitHookReply' });

type GitHookReply = z.output<typeof gitHookReply>;

/**
 * POST /v1/hooks/git: a push webhook (GitHub's format, HMAC-signed with
 * FLEETCAST_WEBHOOK_SECRET) that queues a build of the pushed commit for every service built
 * from that repository and branch. Registered in a scope of its own whose body parser keeps
 * the raw bytes: the signature is over exactly what was sent, not over re-serialized JSON.
 */
export function registerGitHook(app: FastifyInstance, { db, services, queue, deploys, logger }: ApiContext, secret: string | undefined, bodyLimit: number): void {
  const deliveries = new DeliveryLog(db);

  // A commit that already has a build (of any status) is not queued again by a push: a
  // redelivery under a new id, or the same commit pushed to a second branch, builds nothing new.
  // `fleetcast build SERVICE COMMIT` builds it again on purpose.
  const queueBuilds = async (event: z.output<typeof pushEvent>): Promise<number[]> => {
    const ids: number[] = [];
    for (const service of servicesForPush(await services.list(), event)) {
      const { build, created } = await queue.submit({ service: service.name, commit: event.after, requestedBy: 'webhook', once: true });
      logger.info({ service: service.name, build: build.id, commit: build.commit, created }, created ? 'push webhook: build queued' : 'push webhook: the commit already has a build');
      if (created) await auditChange(deploys, 'webhook', 'build', service.name, { build: formatBuildId(build.id), commit: build.commit, ref: event.ref });
      ids.push(build.id);
    }
    return ids;
  };

  const handle = async (request: FastifyRequest): Promise<GitHookReply> => {
    if (secret === undefined) {
      throw new FleetcastError(
        'NOT_FOUND',
        'the git webhook is off: start the coordinator with FLEETCAST_WEBHOOK_SECRET set, and give the git host the same secret',
      );
    }
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const signature = request.headers['x-hub-signature-256'];
    if (!verifySignature(secret, body, typeof signature === 'string' ? signature : undefined)) {
      throw new FleetcastError(
        'UNAUTHORIZED',
        'missing or wrong x-hub-signature-256: sign the raw body with HMAC-SHA256 using the coordinator\'s FLEETCAST_WEBHOOK_SECRET',
      );
    }
    const eventName = request.headers['x-github-event'];
    if (typeof eventName === 'string' && eventName !== 'push') return { builds: [], ignored: `${eventName} event` };
    if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
      throw new FleetcastError('INVALID_INPUT', 'the webhook must send JSON: set its content type to application/json');
    }
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      throw new FleetcastError('INVALID_INPUT', 'the request body is not valid JSON');
    }
    const event = parseInput(pushEvent, json, 'body');
    if (isDeletion(event)) return { builds: [], ignored: `${event.ref} was deleted` };

    const delivery = request.headers['x-github-delivery'];
    const { result: ids, replay } =
      typeof delivery === 'string' && delivery !== ''
        ? await deliveries.run(delivery, () => queueBuilds(event))
        : { result: await queueBuilds(event), replay: false };
    const builds = await Promise.all(ids.map(async (id) => toBuildJson(await queue.get(id))));
    if (replay) return { builds, replay };
    // Acknowledged (the git host must not retry it forever), but not silently: say why nothing was queued.
    return builds.length > 0 ? { builds } : { builds, ignored: nothingToBuild(event) };
  };

  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // At most `bodyLimit` bytes are read before the signature is checked: an unsigned flood costs that much, no more.
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));
    scope.setErrorHandler((err, request, reply) => {
      if ((err as { code?: string }).code !== 'FST_ERR_CTP_BODY_TOO_LARGE') throw err;
      logger.warn({ requestId: request.id, limit: bodyLimit }, 'push webhook: body over the limit refused unread');
      const error = new FleetcastError(
        'INVALID_INPUT',
        `the webhook body is larger than ${formatBytes(bodyLimit)} (FLEETCAST_WEBHOOK_MAX_BODY); raise that setting if your git host sends bigger pushes`,
        { limit: bodyLimit },
      );
      void reply.code(413).type('application/json').send(toErrorJson(error));
    });
    scope.post(gitHookPath, { bodyLimit }, async (request, reply) => {
      const result = await handle(request);
      return reply.code(202).send(result);
    });
  });
}

function nothingToBuild(event: z.output<typeof pushEvent>): string {
  const { clone_url, html_url, ssh_url, git_url, url } = event.repository;
  const repo = clone_url ?? html_url ?? ssh_url ?? git_url ?? url ?? '(no repository URL in the event)';
  const branch = /^refs\/heads\/(.+)$/.exec(event.ref)?.[1];
  if (branch === undefined) return `${event.ref} is not a branch; only branch pushes are built`;
  return `no service is built from ${repo} branch ${branch}: register one with fleetcast service add NAME --repo ${repo} (its repo must be one of the event's repository URLs)`;
}
