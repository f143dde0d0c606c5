import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { BuildJson } from '../../../api-contract/build-json.ts';
import { api } from './api.ts';
import { bytes, duration, when } from './format.ts';
import { live } from './live-feed.ts';
import { Badge } from './shares.ts';

/** A build: status, commit, digest, copies per region, why it is (not) deployable, and its log followed live. */
export function BuildPage({ id }: { id: string }) {
  const [build, setBuild] = useState<BuildJson | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [log, setLog] = useState('');
  const [ended, setEnded] = useState(false);
  const [follow, setFollow] = useState(true);
  const pre = useRef<HTMLPreElement>(null);
  useEffect(() => {
    setBuild(null);
    setLog('');
    setEnded(false);
    api.call<BuildJson>('GET', `/v1/builds/${id}`).then(setBuild, (err: unknown) => setError((err as Error).message));
    // The stream's build messages carry no replication: keep what the API gave.
    const offBuild = live.watch('build', id, (m) => m.type === 'build' && setBuild((old) => ({ ...m.build, replication: m.build.replication ?? old?.replication ?? null, deployable: m.build.deployable ?? old?.deployable ?? null, deployableReason: m.build.deployableReason ?? old?.deployableReason ?? null })));
    const offLog = live.watch('log', id, (m) => {
      if (m.type === 'log') setLog((text) => text + m.text);
      else if (m.type === 'log-end') setEnded(true);
      else if (m.type === 'error') setError(m.error.message);
    });
    return () => {
      offBuild();
      offLog();
    };
  }, [id]);
  useEffect(() => {
    if (follow && pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [log, follow]);
  if (error && !build) return html`<section><h1>${id}</h1><p class="error">${error}</p></section>`;
  if (!build) return html`<section><h1>${id}</h1><p class="muted">Loading…</p></section>`;
  return html`<section>
    <h1>${build.id} <span class="muted">of</span> <a href=${`#/services/${build.service}`}>${build.service}</a> <${Badge} state=${build.status} /></h1>
    <dl class="facts">
      <dt>Commit</dt><dd><span class="mono">${build.commit}</span> ${build.commitSubject ?? ''}</dd>
      <dt>Author</dt><dd>${build.commitAuthor ?? '—'}</dd>
      <dt>Requested by</dt><dd>${build.requestedBy ?? '—'}</dd>
      <dt>Created</dt><dd class="mono">${when(build.createdAt)}</dd>
      <dt>Took</dt><dd class="num">${duration(build.startedAt, build.finishedAt)}</dd>
      <dt>Digest</dt><dd class="mono wrap">${build.digest ?? '—'}</dd>
      <dt>Size</dt><dd class="num">${bytes(build.size)}</dd>
      <dt>Deployable</dt><dd>${build.deployable === null ? '—' : build.deployable ? 'yes' : `no: ${build.deployableReason ?? ''}`}</dd>
      ${build.failureReason && html`<dt>Failure</dt><dd class="error">${build.failureReason}</dd>`}
    </dl>
    <h2>Copies per region</h2>
    ${(build.replication ?? []).length === 0
      ? html`<p class="muted">None yet.</p>`
      : html`<ul class="copies">${build.replication!.map((r) => html`<li><span class="region">${r.region}</span> <${Badge} state=${r.status} /> <span class="num">${bytes(r.bytesCopied)}</span>${r.error ? html` <span class="error">${r.error}</span>` : ''}</li>`)}</ul>`}
    <h2>Log ${ended ? html`<span class="muted">(complete)</span>` : html`<span class="live-dot" aria-label="following">●</span>`}</h2>
    <label class="inline"><input type="checkbox" checked=${follow} onChange=${(e: Event) => setFollow((e.target as HTMLInputElement).checked)} /> Follow</label>
    <pre class="log" ref=${pre} tabindex="0" aria-label="build log">${log || (ended ? '(empty)' : 'waiting for output…')}</pre>
  </section>`;
}
