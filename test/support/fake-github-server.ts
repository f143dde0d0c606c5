// A small fake of the GitHub REST API, the endpoints fleetcast uses, enough for the real
// @octokit/rest client: commit statuses (POST /repos/O/R/statuses/SHA), deployments
// (POST /repos/O/R/deployments) and deployment statuses (POST /repos/O/R/deployments/ID/statuses).
// Every accepted call is kept in order. `down` answers every request 503 (GitHub unavailable);
// a request without the expected token is 401. With `app`, it also plays GitHub's App sign-in:
// POST /app/installations/ID/access_tokens with a JWT signed (RS256) by the App's key and issued
// by its id answers an installation token, which the API then accepts.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type GithubCall =
  | { kind: 'status'; repo: string; sha: string; state: string; context: string; description: string }
  | { kind: 'deployment'; repo: string; id: number; ref: string; environment: string; task: string; payload: Record<string, unknown> }
  | { kind: 'deployment-status'; repo: string; deploymentId: number; environment: string; state: string; description: string };

export class FakeGithubServer {
  /** Accepted calls, in the order they came. */
  readonly calls: GithubCall[] = [];
  /** Requests refused while down. */
  refused = 0;
  down = false;
  private nextId = 1000;
  private readonly deployments = new Map<number, { repo: string; environment: string }>();

  /** Installation tokens handed out to the App. */
  readonly installationTokens: string[] = [];
  private readonly appKey: KeyObject | undefined;

  private constructor(
    private readonly server: http.Server,
    readonly token: string,
    private readonly app: { id: number; installationId: number; publicKeyPem: string } | undefined,
  ) {
    this.appKey = app ? createPublicKey(app.publicKeyPem) : undefined;
  }

  static async start(token = 'ghp_fleetcast_test_token_0123456789', app?: { id: number; installationId: number; publicKeyPem: string }): Promise<FakeGithubServer> {
    let fake: FakeGithubServer;
    const server = http.createServer((req, res) => void fake.handle(req, res));
    fake = new FakeGithubServer(server, token, app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The calls of one kind, for assertions. */
  of<K extends GithubCall['kind']>(kind: K): Extract<GithubCall, { kind: K }>[] {
    return this.calls.filter((call): call is Extract<GithubCall, { kind: K }> => call.kind === kind);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** An RS256 JWT of the App (iss = its id), signed by its key and not expired. */
  private validAppJwt(header: string | undefined): boolean {
    const jwt = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/i.exec(header ?? '');
    if (!jwt || !this.appKey || !this.app) return false;
    const ok = verify('RSA-SHA256', Buffer.from(`${jwt[1]}.${jwt[2]}`), this.appKey, Buffer.from(jwt[3]!, 'base64url'));
    const claims = JSON.parse(Buffer.from(jwt[2]!, 'base64url').toString()) as { iss?: unknown; exp?: number };
    return ok && String(claims.iss) === String(this.app.id) && (claims.exp ?? 0) * 1000 > Date.now();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (this.down) {
      this.refused++;
      return reply(503, { message: 'Service Unavailable' });
    }
    const url0 = new URL(req.url ?? '/', 'http://localhost');
    const appSignIn = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(url0.pathname);
    if (req.method === 'POST' && appSignIn && this.app) {
      if (Number(appSignIn[1]) !== this.app.installationId || !this.validAppJwt(req.headers.authorization)) return reply(401, { message: 'A JSON web token could not be decoded' });
      const issued = `ghs_installation_${this.installationTokens.length}_0123456789abcdef`;
      this.installationTokens.push(issued);
      return reply(201, { token: issued, expires_at: new Date(Date.now() + 3_600_000).toISOString(), permissions: { statuses: 'write', deployments: 'write' }, repository_selection: 'all' });
    }
    const presented = /^(?:token|Bearer) (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (presented === undefined || (presented !== this.token && !this.installationTokens.includes(presented))) return reply(401, { message: 'Bad credentials' });
    let body: Record<string, unknown>;
    try {
      body = chunks.length === 0 ? {} : (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>);
    } catch {
      return reply(400, { message: 'Problems parsing JSON' });
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    let match: RegExpExecArray | null;
    if (req.method === 'POST' && (match = /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]{7,64})$/.exec(url.pathname))) {
      const repo = `${match[1]}/${match[2]}`;
      if (!['pending', 'success', 'failure', 'error'].includes(String(body.state))) return reply(422, { message: 'Validation Failed' });
      this.calls.push({ kind: 'status', repo, sha: match[3]!, state: String(body.state), context: String(body.context ?? 'default'), description: String(body.description ?? '') });
      return reply(201, { id: this.nextId++, state: body.state, context: body.context });
    }
    if (req.method === 'POST' && (match = /^\/repos\/([^/]+)\/([^/]+)\/deployments$/.exec(url.pathname))) {
      const repo = `${match[1]}/${match[2]}`;
      if (typeof body.ref !== 'string') return reply(422, { message: 'Validation Failed: ref' });
      // As GitHub does when required_contexts is not given and statuses are not all green.
      if (!Array.isArray(body.required_contexts)) return reply(409, { message: 'Conflict: Commit status checks failed' });
      const id = this.nextId++;
      const environment = String(body.environment ?? 'production');
      this.deployments.set(id, { repo, environment });
      this.calls.push({ kind: 'deployment', repo, id, ref: body.ref, environment, task: String(body.task ?? 'deploy'), payload: (body.payload ?? {}) as Record<string, unknown> });
      return reply(201, { id, ref: body.ref, environment });
    }
    if (req.method === 'POST' && (match = /^\/repos\/([^/]+)\/([^/]+)\/deployments\/(\d+)\/statuses$/.exec(url.pathname))) {
      const repo = `${match[1]}/${match[2]}`;
      const deployment = this.deployments.get(Number(match[3]));
      if (!deployment || deployment.repo !== repo) return reply(404, { message: 'Not Found' });
      if (!['error', 'failure', 'inactive', 'in_progress', 'queued', 'pending', 'success'].includes(String(body.state))) return reply(422, { message: 'Validation Failed' });
      this.calls.push({ kind: 'deployment-status', repo, deploymentId: Number(match[3]), environment: String(body.environment ?? deployment.environment), state: String(body.state), description: String(body.description ?? '') });
      return reply(201, { id: this.nextId++, state: body.state });
    }
    return reply(404, { message: 'Not Found' });
  }
}
