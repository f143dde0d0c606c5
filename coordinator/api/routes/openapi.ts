import { errorJson } from '../error-json.ts';
import { clientMessage, serverMessage } from '../events/messages.ts';
import { eventsPath } from '../events/events-server.ts';
import { openApiDocument, type ExtraOperation } from '../openapi-document.ts';
import { defineRoute, type Route } from '../route.ts';
import { pushEvent } from '../webhook/push-event.ts';
import { gitHookPath, gitHookReply } from './git-hook.ts';

const apiVersion = '1';

const extras: ExtraOperation[] = [
  {
    method: 'post',
    path: gitHookPath,
    schemas: { input: [pushEvent], output: [gitHookReply, errorJson] },
    operation: {
      summary: 'git push webhook (GitHub format): queue a build of the pushed commit for every service of that repository and branch',
      description:
        'Authenticated by `x-hub-signature-256: sha256=<HMAC-SHA256 of the raw body>` with FLEETCAST_WEBHOOK_SECRET, not by a token. ' +
        'Off (404) unless the coordinator has that secret. Deliveries are remembered by `x-github-delivery` (in SQL): a redelivery queues nothing new, ' +
        'and neither does a push of a commit that already has a build. At most FLEETCAST_WEBHOOK_MAX_BODY (1 MiB) is read before the signature is checked. ' +
        'Non-push events (`x-github-event`, e.g. ping) and branch deletions are acknowledged and ignored.',
      security: [],
      requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/PushEvent' } } } },
      responses: {
        202: { description: 'accepted', content: { 'application/json': { schema: { $ref: '#/components/schemas/GitHookReply' } } } },
        401: { description: 'missing or wrong signature', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        413: { description: 'the body is larger than FLEETCAST_WEBHOOK_MAX_BODY; refused unread', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        404: { description: 'the webhook is not configured', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    },
  },
  {
    method: 'get',
    path: eventsPath,
    schemas: { input: [clientMessage], output: [serverMessage] },
    operation: {
      summary: 'WebSocket stream of build changes and build logs (scope read; bearer header or ?token=)',
      description:
        'Send `{"subscribe":"build","id":"b42"}` to receive `{"type":"build","build":{…}}` now and whenever the build changes ' +
        '(status, attempts, claim, result; not heartbeats), or `{"subscribe":"log","id":"b42","offset":0}` to receive ' +
        '`{"type":"log","id","text","nextOffset"}` chunks and, once the build is final and the log drained, `{"type":"log-end","id","nextOffset"}`. ' +
        '`{"unsubscribe":"build"|"log","id"}` stops one. Problems arrive as `{"type":"error","id"?,"error":{…}}`. ' +
        'The server watches the rows; clients never poll. Messages: components EventsClientMessage and EventsServerMessage.',
      security: [{ bearer: ['read'] }],
      parameters: [{ name: 'token', in: 'query', required: false, schema: { type: 'string' }, description: 'the token, where headers cannot be set' }],
      responses: {
        101: { description: 'switching to the WebSocket protocol' },
        401: { description: 'missing or unknown token', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    },
  },
];

export function openApiRoutes(routes: () => readonly Route[]): Route[] {
  let document: Record<string, unknown> | null = null;
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/openapi.json',
      summary: 'this description of the API (OpenAPI 3.1; no token)',
      scope: null,
      action: 'read the API description',
      responses: { 200: { description: 'the OpenAPI document' } },
      async handle() {
        document ??= openApiDocument(routes(), extras, apiVersion);
        return document;
      },
    }),
  ];
}
