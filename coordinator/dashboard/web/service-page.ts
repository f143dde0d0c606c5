import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import type { BuildJson } from '../../../api-contract/build-json.ts';
import type { SessionJson } from '../../../api-contract/dashboard-json.ts';
import type { DeploymentJson, DeploymentListJson, ServiceStatusJson } from '../../../api-contract/deployment-json.ts';
import { grants } from '../../../api-contract/scopes.ts';
import { api } from './api.ts';
import { ConfirmButton } from './confirm-button.ts';
import { duration, shortCommit, when } from './format.ts';
import { PreviewPanel } from './preview-panel.ts';
import { useLive, useLoad } from './hooks.ts';
import { Badge, Shares } from './shares.ts';

const inProgress = (d: DeploymentJson | null): d is DeploymentJson => d !== null && ['WRITING', 'ROLLING', 'PAUSED'].includes(d.status);

/** The current deployment: its waves in order, each region's machines against the goal, live. */
function Timeline({ status }: { status: ServiceStatusJson }) {
  const d = status.deployment;
  if (d === null) return html`<p class="muted">Never deployed.</p>`;
  const region = (name: string) => status.regions.find((r) => r.region === name);
  return html`<div class="deployment" data-deployment=${d.id} data-status=${d.status}>
    <p>
      <strong>${d.id}</strong> ${d.kind} of <a href=${`#/builds/${d.build}`}>${d.build}</a> <${Badge} state=${d.status} /> by ${d.requestedBy}
      ${d.reason && html` — “${d.reason}”`} <span class="muted">${when(d.createdAt)}</span>
    </p>
    ${d.error && html`<p class="error">${d.error}</p>`}
    <ol class="waves">
      ${d.waves.map(
        (w, i) => html`<li class=${`wave ${w.status.toLowerCase()}`} data-wave=${i + 1} data-wave-status=${w.status}>
          <div class="wave-head">Wave ${i + 1}: ${w.regions.join(', ')} <${Badge} state=${w.status} />${w.promotedBy ? html` <span class="muted">promoted by ${w.promotedBy}</span>` : ''}</div>
          ${w.regions.map((name) => {
            const r = region(name);
            return html`<div class="wave-region"><span class="region">${name}</span>${r ? html`<${Shares} c=${r.convergence} />` : '—'}</div>`;
          })}
        </li>`,
      )}
    </ol>
  </div>`;
}

function History({ service, version, builds }: { service: string; version: string; builds: Map<string, BuildJson> }) {
  const list = useLoad(() => api.call<DeploymentListJson>('GET', `/v1/deployments?service=${encodeURIComponent(service)}&limit=20`), [service, version]);
  if (list.error) return html`<p class="error">${list.error}</p>`;
  if (!list.data) return html`<p class="muted">Loading…</p>`;
  return html`<div class="scroll"><table>
    <thead><tr><th scope="col">Id</th><th scope="col">Kind</th><th scope="col">Build</th><th scope="col">Commit</th><th scope="col">Who</th><th scope="col">When</th><th scope="col">Took</th><th scope="col">Outcome</th><th scope="col">Why</th></tr></thead>
    <tbody>${list.data.deployments.map(
      (d) => html`<tr data-history=${d.id}>
        <td class="mono">${d.id}</td><td>${d.kind}</td><td class="mono"><a href=${`#/builds/${d.build}`}>${d.build}</a></td>
        <td>${builds.get(d.build) ? html`<span class="mono">${shortCommit(builds.get(d.build)!.commit)}</span> ${builds.get(d.build)!.commitSubject ?? ''}` : '—'}</td><td>${d.requestedBy}</td>
        <td class="mono">${when(d.createdAt)}</td><td class="num">${duration(d.createdAt, d.convergedAt)}</td><td><${Badge} state=${d.status} /></td><td>${d.reason}</td>
      </tr>`,
    )}</tbody>
  </table></div>`;
}

function Builds({ builds }: { builds: BuildJson[] }) {
  if (builds.length === 0) return html`<p class="muted">No recent builds.</p>`;
  return html`<div class="scroll"><table>
    <thead><tr><th scope="col">Build</th><th scope="col">Commit</th><th scope="col">Author</th><th scope="col">Status</th><th scope="col">Copies</th><th scope="col">Deployable</th></tr></thead>
    <tbody>${builds.map(
      (b) => html`<tr data-build=${b.id}>
        <td class="mono"><a href=${`#/builds/${b.id}`}>${b.id}</a></td>
        <td><span class="mono">${shortCommit(b.commit)}</span> ${b.commitSubject ?? ''}</td>
        <td>${b.commitAuthor ?? '—'}</td>
        <td><${Badge} state=${b.status} /></td>
        <td>${(b.replication ?? []).map((r) => html`<span class=${`copy ${r.status.toLowerCase()}`} title=${r.error ?? ''}>${r.region} ${r.status}</span> `)}</td>
        <td>${b.deployable === null ? '—' : b.deployable ? 'yes' : html`<span title=${b.deployableReason ?? ''}>no</span>`}</td>
      </tr>`,
    )}</tbody>
  </table></div>`;
}

function Actions({ status, builds }: { status: ServiceStatusJson; builds: BuildJson[] }) {
  const deployable = builds.filter((b) => b.status === 'SUCCEEDED' && b.deployable !== false);
  const [choice, setChoice] = useState('');
  const build = deployable.find((b) => b.id === choice) ?? deployable[0];
  const d = status.deployment;
  const name = status.service;
  const goals = status.regions.map((r) => `${r.region}: ${r.goal?.build ?? 'none'}`).join(', ');
  return html`<div class="actions" role="group" aria-label="Actions">
    ${build &&
    html`<label class="inline">Build <select value=${build.id} onChange=${(e: Event) => setChoice((e.target as HTMLSelectElement).value)}>
        ${deployable.map((b) => html`<option value=${b.id}>${b.id} ${shortCommit(b.commit)}</option>`)}
      </select></label>
      <${ConfirmButton} label="Deploy" title=${`Deploy ${build.id} of ${name}?`} reason="optional" run=${(reason: string) => api.call('POST', '/v1/deployments', { build: build.id, ...(reason ? { reason } : {}) })}>
        <p>Commit <span class="mono">${shortCommit(build.commit)}</span> ${build.commitSubject ?? ''} ${build.commitAuthor ? `(${build.commitAuthor})` : ''}</p>
        <${PreviewPanel} request=${{ kind: 'deploy', build: build.id }} />
        <p>Now running: ${goals}. A rollback afterwards returns to these builds.</p>
      <//>`}
    <${ConfirmButton} label="Rollback" danger title=${`Roll ${name} back?`} reason="optional" run=${(reason: string) => api.call('POST', `/v1/services/${name}/rollback`, reason ? { reason } : {})}>
      <p>Every region goes back to the build deployed before the current one (now: ${goals}); ${name} is then locked.</p>
      <${PreviewPanel} request=${{ kind: 'rollback', service: name }} />
    <//>
    ${status.lock
      ? html`<${ConfirmButton} label="Unlock" title=${`Unlock ${name}?`} reason="optional" run=${() => api.call('DELETE', `/v1/services/${name}/lock`)}>
          <p>Locked by ${status.lock.lockedBy} since ${when(status.lock.since)}: ${status.lock.reason}</p>
        <//>`
      : html`<${ConfirmButton} label="Lock" title=${`Lock ${name}?`} reason="required" run=${(reason: string) => api.call('POST', `/v1/services/${name}/lock`, { reason })}>
          <p>Deploys of ${name} are refused until it is unlocked.</p>
        <//>`}
    ${inProgress(d) &&
    (['pause', 'resume', 'promote', 'abort'] as const)
      .filter((a) => (d.status === 'PAUSED' ? a !== 'pause' : a !== 'resume'))
      .map(
        (a) => html`<${ConfirmButton} label=${a[0]!.toUpperCase() + a.slice(1)} danger=${a === 'abort'} title=${`${a} ${d.id}?`} reason="optional" run=${(reason: string) => api.call('POST', `/v1/deployments/${d.id}/${a}`, reason ? { reason } : {})}>
          <p>${a === 'abort' ? 'Later waves are never written; regions already written go back to the build before; the service is locked.' : a === 'promote' ? 'The wave being judged counts as converged; the next wave is written at once.' : a === 'pause' ? 'No next wave is written until resumed.' : 'The next wave is written once the current one converged.'}</p>
        <//>`,
      )}
  </div>`;
}

/** One service: the live wave timeline, its history, its builds, and the actions the token may take. */
export function ServicePage({ name, session }: { name: string; session: SessionJson }) {
  const feed = useLive();
  const status = feed.services.get(name);
  const builds = [...feed.builds.values()].filter((b) => b.service === name).reverse();
  if (!status) return html`<section><h1>${name}</h1><p class="muted">${feed.connected ? 'No such service, or not visible to this token.' : 'Connecting…'}</p></section>`;
  const mayChange = grants(session.scopes, 'deploy') && (session.services === null || session.services.includes(name));
  return html`<section>
    <h1>${name} ${status.lock && html`<span class="lock">🔒 locked by ${status.lock.lockedBy}: ${status.lock.reason}</span>`}</h1>
    ${mayChange ? html`<${Actions} status=${status} builds=${builds} />` : html`<p class="muted" data-read-only>Read-only: this token may not deploy.</p>`}
    <h2>Current deployment</h2>
    <${Timeline} status=${status} />
    <h2>History</h2>
    <${History} service=${name} builds=${feed.builds} version=${`${status.deployment?.id}:${status.deployment?.status}:${status.lock?.since}`} />
    <h2>Builds</h2>
    <${Builds} builds=${builds} />
  </section>`;
}
