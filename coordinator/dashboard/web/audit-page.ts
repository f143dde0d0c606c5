import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import type { AuditPageJson } from '../../../api-contract/audit-json.ts';
import { api } from './api.ts';
import { when } from './format.ts';
import { useLoad } from './hooks.ts';
import { Badge } from './shares.ts';

interface Filter {
  service: string;
  actor: string;
  action: string;
}

/** Every change, newest first: filtered by service, actor and action, paged with the API's cursor. */
export function AuditPage() {
  const [draft, setDraft] = useState<Filter>({ service: '', actor: '', action: '' });
  const [filter, setFilter] = useState<Filter>(draft);
  const [pages, setPages] = useState<string[]>([]);
  const before = pages.at(-1);
  const page = useLoad(() => {
    const q = new URLSearchParams({ limit: '50' });
    for (const [k, v] of Object.entries(filter)) if (v.trim()) q.set(k, v.trim());
    if (before) q.set('before', before);
    return api.call<AuditPageJson>('GET', `/v1/audit?${q}`);
  }, [filter, before]);
  const field = (name: keyof Filter, label: string) =>
    html`<label>${label} <input name=${name} value=${draft[name]} onInput=${(e: Event) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value })} /></label>`;
  return html`<section>
    <h1>Audit</h1>
    <form class="filters" role="search" onSubmit=${(e: Event) => (e.preventDefault(), setPages([]), setFilter(draft))}>
      ${field('service', 'Service')} ${field('actor', 'Actor')} ${field('action', 'Action')}
      <button type="submit">Search</button>
    </form>
    ${page.error && html`<p class="error">${page.error}</p>`}
    ${page.data &&
    html`<div class="scroll"><table>
        <thead><tr><th scope="col">When</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Result</th><th scope="col">Detail</th></tr></thead>
        <tbody>${page.data.entries.map(
          (e) => html`<tr data-audit=${e.id}><td class="mono">${when(e.at)}</td><td>${e.actor}</td><td>${e.action}</td><td>${e.target}</td><td><${Badge} state=${e.result} /></td><td class="detail">${JSON.stringify(e.detail)}</td></tr>`,
        )}</tbody>
      </table></div>
      <div class="pager">
        <button type="button" disabled=${pages.length === 0} onClick=${() => setPages(pages.slice(0, -1))}>Newer</button>
        <button type="button" disabled=${page.data.next === null} onClick=${() => setPages([...pages, page.data!.next!])}>Older</button>
      </div>`}
  </section>`;
}
