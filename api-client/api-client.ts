import fs from 'node:fs';
import { Agent } from 'undici';
import { errorCodes, FleetcastError, type ErrorCode } from '../errors/index.ts';
import type { ClientConfig } from './client-config.ts';

export interface ApiClientOptions {
  /** A request that takes longer fails. @defaultValue 30000 */
  timeoutMs?: number;
}

export interface TextResponse {
  text: string;
  headers: Headers;
}

/**
 * The coordinator's HTTP API as its clients (the CLI, the bot, `fleetcast demo`) use it.
 * Refusals come back as the FleetcastError the coordinator raised (same code, message and
 * details), so exit codes match the server's reasons; a coordinator that cannot be reached is
 * COORDINATOR_UNREACHABLE with the URL tried.
 */
export class ApiClient {
  private readonly timeoutMs: number;
  /** The CA certificate (PEM) the coordinator's is checked against; undefined: the system CAs. */
  readonly ca: Buffer | undefined;
  /** fetch's connection pool, trusting `ca`; undefined: fetch's own. */
  private readonly dispatcher: Agent | undefined;

  constructor(
    readonly config: ClientConfig,
    options: ApiClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.ca = config.ca === null ? undefined : readCa(config.ca);
    this.dispatcher = this.ca === undefined ? undefined : new Agent({ connect: { ca: this.ca } });
  }

  /** Options of a WebSocket to the coordinator: the same CA as the requests. */
  tlsOptions(): { ca?: Buffer } {
    return this.ca === undefined ? {} : { ca: this.ca };
  }

  /** Closes the connection pool (a process that ends does not need to). */
  async close(): Promise<void> {
    await this.dispatcher?.close();
  }

  async get<T>(path: string): Promise<T> {
    return (await this.json<T>('GET', path)).body;
  }

  async post<T>(path: string, body?: unknown): Promise<T> {
    return (await this.json<T>('POST', path, body)).body;
  }

  async patch<T>(path: string, body: unknown): Promise<T> {
    return (await this.json<T>('PATCH', path, body)).body;
  }

  async delete<T>(path: string): Promise<T> {
    return (await this.json<T>('DELETE', path)).body;
  }

  /** A JSON request, with its status (201 created vs 200 existing matters to some callers). */
  async json<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
    const response = await this.send(method, path, body, headers);
    return { status: response.status, body: (await response.json()) as T };
  }

  async text(path: string): Promise<TextResponse> {
    const response = await this.send('GET', path);
    return { text: await response.text(), headers: response.headers };
  }

  /** Headers that authenticate a request, for the WebSocket too. */
  authHeaders(): Record<string, string> {
    return this.config.token === null ? {} : { authorization: `Bearer ${this.config.token}` };
  }

  /** The error to show when the coordinator cannot be reached at all. */
  unreachable(cause: unknown): FleetcastError {
    const code = errorCode(cause);
    const certificate = code !== undefined && certificateErrors.test(code);
    return new FleetcastError(
      'COORDINATOR_UNREACHABLE',
      `cannot reach the coordinator at ${this.config.apiUrl} (${code ?? (cause as Error).message}; that address is ${this.config.urlFrom}): ` +
        (certificate
          ? `its TLS certificate is not trusted${this.config.ca === null ? '' : ` by the CA in ${this.config.ca}`}: point --api-ca / FLEETCAST_API_CA at the CA that signed it`
          : 'start it with `fleetcast coordinator` (or `fleetcast up`), or point --api-url / FLEETCAST_API_URL at a running one'),
      { apiUrl: this.config.apiUrl, reason: code ?? null },
    );
  }

  /** Turns an error reply into the FleetcastError the coordinator meant. */
  async refusal(status: number, text: string): Promise<FleetcastError> {
    let error: { code?: string; message?: string; details?: Record<string, unknown> } | undefined;
    try {
      error = (JSON.parse(text) as { error?: typeof error }).error;
    } catch {
      error = undefined;
    }
    if (!error?.code || !(error.code in errorCodes)) {
      return new FleetcastError('INTERNAL', `the coordinator at ${this.config.apiUrl} answered HTTP ${status}: ${text.slice(0, 200)}`, { status });
    }
    let message = error.message ?? `HTTP ${status}`;
    if (error.code === 'UNAUTHORIZED' && this.config.token === null) {
      message =
        `no API token found (looked at ${this.config.tokenPlaces.join(', ')}): set FLEETCAST_API_TOKEN or --api-token; ` +
        'on the coordinator\'s machine, point FLEETCAST_DATA_DIR at its data directory';
    }
    return new FleetcastError(error.code as ErrorCode, message, error.details ?? {});
  }

  private async send(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(this.config.apiUrl + path, {
        method,
        headers: { ...this.authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
        ...(this.dispatcher === undefined ? {} : { dispatcher: this.dispatcher }),
      });
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') {
        throw new FleetcastError('COORDINATOR_UNREACHABLE', `the coordinator at ${this.config.apiUrl} did not answer within ${this.timeoutMs / 1000} s`, {
          apiUrl: this.config.apiUrl,
        });
      }
      throw this.unreachable(err);
    }
    if (!response.ok) throw await this.refusal(response.status, await response.text());
    return response;
  }
}

/** Node's codes for a certificate that does not check out against the trusted CAs. */
const certificateErrors = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME_INVALID/;

function readCa(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new FleetcastError('CONFIG_INVALID', `cannot read the coordinator's CA certificate ${file} (FLEETCAST_API_CA or up.json's ca): ${(err as Error).message}`, { file });
  }
}

function errorCode(err: unknown): string | undefined {
  for (let current: unknown = err, depth = 0; current && depth < 4; depth++) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === 'string') return code;
    current = cause;
  }
  return undefined;
}
