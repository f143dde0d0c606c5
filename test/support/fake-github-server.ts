// A small fake of the GitHub REST API, the endpoints fleetcast uses, enough for the real
// @octokit/rest client: commit statuses (POST /repos/O/R/statuses/SHA), deployments
// (POST /repos/O/R/deployments) and deployment statuses (POST /repos/O/R/deployments/ID/statuses).
// Every accepted call is kept in order. `down` answers every request 503 (GitHub unavailable);
// a request without the expected token is 401.
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

  private constructor(
    private readonly server: http.Server,
    readonly token: string,
  ) {}

  static async start(token = 'ghp_fleetcast_test_token_0123456789'): Promise<FakeGithubServer> {
    let fake: FakeGithubServer;
    const server = http.createServer((req, res) => void fake.handle(req, res));
    fake = new FakeGithubServer(server, token);
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
    if (req.headers.authorization !== `token ${this.token}` && req.headers.authorization !== `Bearer ${this.token}`) return reply(401, { message: 'Bad credentials' });
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
