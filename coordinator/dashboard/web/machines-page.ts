import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import type { MachinePageJson } from '../../../api-contract/dashboard-json.ts';
import { api } from './api.ts';
import { bytes, when } from './format.ts';
import { useLive, useLoad } from './hooks.ts';
import { Badge } from './shares.ts';

interface Filter {
  service: string;
  state: string;
  build: string;
}

/** A region's machines, paged and filtered (failed, silent, on a build): one failed machine among 100,000 is two clicks away. */
export function MachinesPage({ region, services }: { region: string; services: string[] | null }) {
  const feed = useLive();
  const regions = [...new Set([...feed.services.values()].flatMap((s) => s.regions.map((r) => r.region)))].sort();
  // A token limited to services lists one of its own (the API asks it to name one).
  const [draft, setDraft] = useState<Filter>({ service: services?.[0] ?? '', state: '', build: '' });
  const [filter, setFilter] = useState<Filter>(draft);
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const page = useLoad(() => {
    const q = new URLSearchParams({ limit: '100' });
    for (const [k, v] of Object.entries(filter)) if (v.trim()) q.set(k, v.trim());
    if (cursor) q.set('cursor', cursor);
    return api.call<MachinePageJson>('GET', `/v1/regions/${encodeURIComponent(region)}/machines?${q}`);
  }, [region, filter, cursor]);
  return html`<section>
    <h1>Machines of ${region}</h1>
    <nav class="tabs" aria-label="Regions">${regions.map((r) => html`<a href=${`#/regions/${r}/machines`} aria-current=${r === region ? 'page' : undefined}>${r}</a>`)}</nav>
    <form class="filters" role="search" onSubmit=${(e: Event) => (e.preventDefault(), setCursors([]), setFilter(draft))}>
      <label>Service <input name="service" value=${draft.service} onInput=${(e: Event) => setDraft({ ...draft, service: (e.target as HTMLInputElement).value })} /></label>
      <label>State <select name="state" value=${draft.state} onChange=${(e: Event) => setDraft({ ...draft, state: (e.target as HTMLSelectElement).value })}>
        ${['', 'failed', 'silent', 'running', 'downloading', 'verifying', 'installing', 'idle'].map((s) => html`<option value=${s}>${s || 'any'}</option>`)}
      </select></label>
      <label>Build <input name="build" placeholder="b42" value=${draft.build} onInput=${(e: Event) => setDraft({ ...draft, build: (e.target as HTMLInputElement).value })} /></label>
      <button type="submit">Filter</button>
    </form>
    ${page.error && html`<p class="error">${page.error}</p>`}
    ${page.data &&
    html`<div class="scroll"><table>
        <thead><tr><th scope="col">Machine</th><th scope="col">Service</th><th scope="col">Build</th><th scope="col">State</th><th scope="col">Have</th><th scope="col">Peers</th><th scope="col">Last report</th><th scope="col">Error</th></tr></thead>
        <tbody>${page.data.machines.map(
          (m) => html`<tr data-machine=${m.machine}>
            <td class="mono">${m.machine}</td><td>${m.service}</td><td class="mono">${m.build ?? '—'}</td>
            <td><${Badge} state=${m.silent ? 'silent' : m.state} /></td><td class="num">${bytes(m.bytes)}</td><td class="num">${m.peers}</td>
            <td class="mono">${when(m.reportedAt)}</td><td class="error">${m.error ?? ''}</td>
          </tr>`,
        )}</tbody>
      </table></div>
      ${page.data.machines.length === 0 && html`<p class="muted">No machine matches.</p>`}
      <div class="pager">
        <button type="button" disabled=${cursors.length === 0} onClick=${() => setCursors(cursors.slice(0, -1))}>Previous</button>
        <button type="button" disabled=${page.data.next === null} onClick=${() => setCursors([...cursors, page.data!.next!])}>Next</button>
      </div>`}
  </section>`;
}
