import { html } from 'htm/preact';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { SessionJson } from '../../../api-contract/dashboard-json.ts';
import { grants } from '../../../api-contract/scopes.ts';
import { api, ApiError } from './api.ts';
import { AuditPage } from './audit-page.ts';
import { BuildPage } from './build-page.ts';
import { useHashPath, useLive } from './hooks.ts';
import { live } from './live-feed.ts';
import { MachinesPage } from './machines-page.ts';
import { OverviewPage } from './overview-page.ts';
import { ServicePage } from './service-page.ts';
import { SignIn } from './sign-in.ts';

function Page({ path, session }: { path: string; session: SessionJson }) {
  let m: RegExpExecArray | null;
  if ((m = /^\/services\/([^/]+)$/.exec(path))) return html`<${ServicePage} name=${m[1]} session=${session} />`;
  if ((m = /^\/builds\/(b\d+)$/.exec(path))) return html`<${BuildPage} id=${m[1]} />`;
  if ((m = /^\/regions\/([^/]+)\/machines$/.exec(path))) return html`<${MachinesPage} region=${m[1]} services=${session.services} />`;
  if (path === '/audit') return html`<${AuditPage} />`;
  return html`<${OverviewPage} />`;
}

function Shell({ session, onSignOut }: { session: SessionJson; onSignOut: () => void }) {
  const path = useHashPath();
  const feed = useLive();
  const firstRegion = [...feed.services.values()][0]?.regions[0]?.region;
  const signOut = async () => {
    await api.call('DELETE', '/v1/session').catch(() => undefined);
    onSignOut();
  };
  const link = (href: string, label: string, current: boolean) => html`<a href=${href} aria-current=${current ? 'page' : undefined}>${label}</a>`;
  return html`<header>
      <a class="brand" href="#/">fleetcast</a>
      <nav aria-label="Pages">
        ${link('#/', 'Fleet', path === '/' || path.startsWith('/services'))}
        ${firstRegion && link(`#/regions/${firstRegion}/machines`, 'Machines', path.startsWith('/regions'))}
        ${grants(session.scopes, 'admin') && link('#/audit', 'Audit', path === '/audit')}
      </nav>
      <span class=${feed.connected ? 'live on' : 'live off'} role="status" data-live=${feed.connected}>${feed.connected ? 'live' : 'reconnecting…'}</span>
      <span class="who">${session.name} <span class="muted">(${session.scopes.join(', ')})</span></span>
      <button type="button" onClick=${signOut}>Sign out</button>
    </header>
    <main id="main"><${Page} path=${path} session=${session} /></main>`;
}

/** Signed in (GET /v1/session answers), the live feed runs; otherwise the sign-in form. */
function App() {
  const [session, setSession] = useState<SessionJson | null | undefined>(undefined);
  useEffect(() => {
    api.call<SessionJson>('GET', '/v1/session').then(setSession, (err: unknown) => setSession(err instanceof ApiError && err.status === 401 ? null : null));
  }, []);
  useEffect(() => {
    api.setCsrf(session?.csrf ?? null);
    if (!session) return;
    live.start();
    return () => live.stop();
  }, [session]);
  if (session === undefined) return html`<p class="loading">Loading…</p>`;
  if (session === null) return html`<${SignIn} onSignedIn=${setSession} />`;
  return html`<${Shell} session=${session} onSignOut=${() => setSession(null)} />`;
}

render(html`<${App} />`, document.getElementById('app')!);
