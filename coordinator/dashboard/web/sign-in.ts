import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import type { SessionJson } from '../../../api-contract/dashboard-json.ts';
import { api } from './api.ts';

/**
 * Sign-in: the API token is posted once and exchanged for an HttpOnly session cookie; the page
 * keeps no token (only the session's CSRF token, in memory).
 */
export function SignIn({ onSignedIn }: { onSignedIn: (session: SessionJson) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      const session = await api.call<SessionJson>('POST', '/v1/session', { token: token.trim() });
      setToken('');
      onSignedIn(session);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return html`<main class="sign-in">
    <form onSubmit=${submit} aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">fleetcast</h1>
      <label for="token">API token</label>
      <input id="token" name="token" type="password" autocomplete="current-password" required value=${token} onInput=${(e: Event) => setToken((e.target as HTMLInputElement).value)} />
      <p class="muted">The token is exchanged once for a session cookie; the page never stores it. On the coordinator's machine the admin token is in &lt;data dir&gt;/api-token.</p>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <button type="submit" class="primary">Sign in</button>
    </form>
  </main>`;
}
