import type { ErrorJson } from '../../../api-contract/error-json.ts';

/** A refusal of the API, with its code (FORBIDDEN, LOCKED…) and the message meant for a person. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * The dashboard's one way to call the API: same origin, the session cookie, and on every change
 * the session's CSRF token (the server refuses a change without it).
 */
export class Api {
  private csrf: string | null = null;

  setCsrf(token: string | null): void {
    this.csrf = token;
  }

  async call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && this.csrf !== null) headers['x-csrf-token'] = this.csrf;
    const response = await fetch(path, { method, headers, body: body === undefined ? null : JSON.stringify(body), credentials: 'same-origin' });
    const text = await response.text();
    let json: unknown = null;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      json = null;
    }
    if (!response.ok) {
      const error = (json as ErrorJson | null)?.error;
      throw new ApiError(error?.code ?? 'HTTP_ERROR', error?.message ?? `the coordinator answered ${response.status}`, response.status);
    }
    return json as T;
  }
}

export const api = new Api();
