import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** A Web API call the bot made. */
export interface SlackCall {
  method: string;
  token: string | null;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  args: Record<string, any>;
  /** What the fake answered (`ts` of a posted message…). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  result: Record<string, any>;
}

/** A message the bot posted to a response_url. */
export interface ResponsePost {
  /** The response_url's id (from responseUrl()). */
  id: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: Record<string, any>;
}

export interface FakeSlackOptions {
  /** Members of user groups, for usergroups.users.list. */
  groups?: Record<string, string[]>;
  /** Channels the bot is not in: chat.postMessage answers not_in_channel. */
  notInChannel?: string[];
}

/**
 * Slack at the boundary the bot talks across, on one local port: the Web API (`apiUrl`, which
 * the real @slack/web-api client is pointed at), response_urls that record what is posted to
 * them, and a Socket Mode WebSocket behind apps.connections.open. Everything the bot sends is
 * recorded for the test to assert on.
 */
export class FakeSlack {
  readonly calls: SlackCall[] = [];
  readonly responses: ResponsePost[] = [];
  private readonly changes = new EventEmitter();
  private readonly sockets = new Set<WebSocket>();
  private ts = 1_700_000_000;
  private envelopes = 0;
  private responseUrls = 0;

  private constructor(
    private readonly server: http.Server,
    private readonly wss: WebSocketServer,
    private readonly options: FakeSlackOptions,
  ) {
    this.changes.setMaxListeners(100);
  }

  static async start(options: FakeSlackOptions = {}): Promise<FakeSlack> {
    const server = http.createServer();
    const wss = new WebSocketServer({ server, path: '/socket' });
    const fake = new FakeSlack(server, wss, options);
    server.on('request', (req, res) => void fake.onRequest(req, res));
    wss.on('connection', (ws) => fake.onSocket(ws));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  private get base(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** FLEETCAST_SLACK_API_URL. */
  get apiUrl(): string {
    return `${this.base}/api/`;
  }

  /** A fresh response_url, as Slack puts one in each command and click. */
  responseUrl(): string {
    return `${this.base}/response/r${++this.responseUrls}`;
  }

  callsOf(method: string): SlackCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  responsesTo(url: string): ResponsePost[] {
    const id = url.split('/').at(-1)!;
    return this.responses.filter((r) => r.id === id);
  }

  /** Resolves with the first recorded call/response matching, waiting for it if needed. */
  async waitFor<T>(find: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
    const found = find();
    if (found !== undefined) return found;
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const value = find();
        if (value === undefined) return;
        clearTimeout(timer);
        this.changes.off('change', check);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.changes.off('change', check);
        reject(new Error(`timed out waiting for ${what}; calls: ${this.calls.map((c) => c.method).join(', ')}; responses: ${this.responses.length}`));
      }, timeoutMs);
      this.changes.on('change', check);
    });
  }

  /** The first response posted to `url` that matches, waiting for it. */
  response(url: string, match: (body: ResponsePost['body']) => boolean = () => true): Promise<ResponsePost['body']> {
    return this.waitFor(() => this.responsesTo(url).find((r) => match(r.body))?.body, `a response to ${url}`);
  }

  /** Socket Mode: sends an envelope to every connected client and resolves with the client's ack payload. */
  async sendEnvelope(type: 'slash_commands' | 'interactive', payload: Record<string, unknown>, retryAttempt = 0): Promise<unknown> {
    const socket = await this.waitFor(() => [...this.sockets][0], 'a Socket Mode connection');
    const envelopeId = `e${++this.envelopes}`;
    return new Promise((resolve) => {
      const onMessage = (data: Buffer) => {
        const message = JSON.parse(data.toString()) as { envelope_id?: string; payload?: unknown };
        if (message.envelope_id !== envelopeId) return;
        socket.off('message', onMessage);
        resolve(message.payload ?? null);
      };
      socket.on('message', onMessage);
      socket.send(JSON.stringify({ envelope_id: envelopeId, type, payload, accepts_response_payload: type === 'slash_commands', retry_attempt: retryAttempt, retry_reason: retryAttempt > 0 ? 'timeout' : '' }));
    });
  }

  get socketConnections(): number {
    return this.sockets.size;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onSocket(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'fake' }, connection_info: { app_id: 'A0FLEET' } }));
    this.changes.emit('change');
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString();
    const url = new URL(req.url ?? '/', this.base);
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
      this.changes.emit('change');
    };
    if (url.pathname.startsWith('/response/')) {
      this.responses.push({ id: url.pathname.split('/').at(-1)!, body: JSON.parse(raw) });
      return reply(200, { ok: true });
    }
    if (!url.pathname.startsWith('/api/')) return reply(404, { ok: false, error: 'not_found' });
    const method = url.pathname.slice('/api/'.length);
    const args = parseArgs(raw, req.headers['content-type']);
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? null;
    const result = this.answer(method, args, token);
    this.calls.push({ method, token, args, result });
    reply(200, result);
  }

  private answer(method: string, args: SlackCall['args'], token: string | null): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return token?.startsWith('xoxb-') && !token.includes('revoked') ? { ok: true, url: 'https://fake.slack.com/', team: 'Fake', team_id: 'T0FAKE', user: 'fleetcast', user_id: 'U0BOT', bot_id: 'B0BOT' } : { ok: false, error: 'invalid_auth' };
      case 'apps.connections.open':
        return token?.startsWith('xapp-') ? { ok: true, url: `${this.base.replace('http', 'ws')}/socket` } : { ok: false, error: 'not_allowed_token_type' };
      case 'chat.postMessage':
        if (this.options.notInChannel?.includes(String(args.channel))) return { ok: false, error: 'not_in_channel' };
        return { ok: true, channel: args.channel, ts: `${++this.ts}.000100`, message: { text: args.text } };
      case 'chat.update':
        return { ok: true, channel: args.channel, ts: args.ts, text: args.text };
      case 'usergroups.users.list': {
        const users = this.options.groups?.[String(args.usergroup)];
        return users ? { ok: true, users } : { ok: false, error: 'no_such_subteam' };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

function parseArgs(raw: string, contentType: string | undefined): SlackCall['args'] {
  if (contentType?.includes('application/json')) return JSON.parse(raw || '{}');
  const args: SlackCall['args'] = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    // The client sends objects (blocks…) JSON-encoded inside the form.
    try {
      args[key] = value.startsWith('[') || value.startsWith('{') ? JSON.parse(value) : value;
    } catch {
      args[key] = value;
    }
  }
  return args;
}
