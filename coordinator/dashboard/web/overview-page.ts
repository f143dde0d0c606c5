import { html } from 'htm/preact';
import type { DeploymentJson, ServiceStatusJson } from '../../../api-contract/deployment-json.ts';
import { useLive } from './hooks.ts';
import { Badge, Shares } from './shares.ts';
import { when } from './format.ts';

const active = (d: DeploymentJson | null) => d !== null && ['WRITING', 'ROLLING', 'PAUSED'].includes(d.status);

/** "wave 2 of 3" for a rollout in progress: the first wave not yet converged. */
export function waveOf(d: DeploymentJson): string {
  const current = d.waves.findIndex((w) => w.status !== 'CONVERGED' && w.status !== 'SKIPPED');
  return `wave ${current === -1 ? d.waves.length : current + 1} of ${d.waves.length}`;
}

function ServiceRows({ s }: { s: ServiceStatusJson }) {
  const d = s.deployment;
  return html`${s.regions.map(
    (r, i) => html`<tr data-service=${s.service} data-region=${r.region}>
      ${i === 0 &&
      html`<th scope="rowgroup" rowspan=${s.regions.length}>
        <a href=${`#/services/${s.service}`}>${s.service}</a>
        ${s.lock && html`<div class="lock">🔒 ${s.lock.lockedBy}: ${s.lock.reason} <span class="mono">since ${when(s.lock.since)}</span></div>`}
      </th>`}
      <td>${r.region}</td>
      <td class="mono" data-goal>${r.goal ? html`<a href=${`#/builds/${r.goal.build}`}>${r.goal.build}</a>` : '—'}</td>
      <td class="machines"><${Shares} c=${r.convergence} /></td>
      ${i === 0 &&
      html`<td rowspan=${s.regions.length} data-rollout>
        ${d
          ? html`<a href=${`#/services/${s.service}`}>${d.id}</a> ${d.build} <${Badge} state=${d.status} />${active(d) ? html` <span class="muted">${waveOf(d)}</span>` : ''}`
          : '—'}
      </td>`}
    </tr>`,
  )}`;
}

/** Every service × region: goal build, where the machines stand, lock, the rollout; updated live. */
export function OverviewPage() {
  const feed = useLive();
  const services = [...feed.services.values()].sort((a, b) => a.service.localeCompare(b.service));
  return html`<section>
    <h1>Fleet</h1>
    ${services.length === 0
      ? html`<p class="muted">${feed.connected ? 'No services yet: register one with fleetcast service add.' : 'Connecting…'}</p>`
      : html`<div class="scroll"><table class="fleet">
          <thead><tr><th scope="col">Service</th><th scope="col">Region</th><th scope="col">Goal</th><th scope="col">Machines</th><th scope="col">Rollout</th></tr></thead>
          <tbody>${services.map((s) => html`<${ServiceRows} key=${s.service} s=${s} />`)}</tbody>
        </table></div>`}
  </section>`;
}
