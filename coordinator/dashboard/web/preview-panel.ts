import { html } from 'htm/preact';
import type { DeployPreviewJson } from '../../../api-contract/deploy-preview-json.ts';
import { api } from './api.ts';
import { shortCommit } from './format.ts';
import { useLoad } from './hooks.ts';

export type PreviewRequest = { kind: 'deploy'; build: string } | { kind: 'rollback'; service: string };

/**
 * What a deploy or rollback would do, as the coordinator judges it (the routes `--dry-run`
 * uses): the refusals it would meet, the waves, per region what runs now and how many machines
 * already hold the build (rollback readiness), and the commits shipped or removed. Mounted when
 * the confirmation opens, so the preview is as fresh as the click.
 */
export function PreviewPanel({ request }: { request: PreviewRequest }) {
  const preview = useLoad(
    () =>
      request.kind === 'deploy'
        ? api.call<DeployPreviewJson>('POST', '/v1/deployments/preview', { build: request.build })
        : api.call<DeployPreviewJson>('POST', `/v1/services/${encodeURIComponent(request.service)}/rollback/preview`, {}),
    [request.kind, request.kind === 'deploy' ? request.build : request.service],
  );
  if (preview.loading) return html`<p class="muted" data-preview="loading">Asking the coordinator what would happen…</p>`;
  if (preview.error !== null) return html`<p class="error" role="alert">No preview: ${preview.error}</p>`;
  const p = preview.data!;
  return html`<div data-preview=${p.refusals.length > 0 ? 'refused' : 'ok'}>
    ${p.refusals.length > 0 &&
    html`<p class="error" role="alert"><strong>It would be refused:</strong> ${p.refusals.map((r) => `${r.error.code}: ${r.error.message}`).join('; ')}</p>`}
    <p>Build <span class="mono">${p.build.id}</span> (<span class="mono">${shortCommit(p.build.commit)}</span>) · waves: ${p.waves.map((w, i) => `${i + 1}: ${w.join(', ')}`).join(' → ')}</p>
    <table class="compact">
      <thead><tr><th scope="col">Region</th><th scope="col">Runs now</th><th scope="col">Already running it</th><th scope="col">Holding it in cache</th></tr></thead>
      <tbody>${p.regions.map(
        (r) => html`<tr>
          <td>${r.region}</td>
          <td class="mono">${r.current?.build ?? '—'}</td>
          <td class="num">${r.known ? `${r.running} of ${r.machines - r.silent}` : 'unknown'}</td>
          <td class="num">${r.known ? r.holding : 'unknown'}</td>
        </tr>`,
      )}</tbody>
    </table>
    ${p.changes.map(
      (c) => html`<p>
        ${c.regions.join(', ')} (from ${c.from ?? 'nothing'}):${' '}
        ${c.error !== null
          ? html`<span class="muted">commits unknown: ${c.error}</span>`
          : html`${c.shipped.length} commit${c.shipped.length === 1 ? '' : 's'} shipped, ${c.removed.length} removed${c.truncated ? ' (more not listed)' : ''}`}
      </p>
      ${c.error === null &&
      c.shipped.length + c.removed.length > 0 &&
      html`<ul class="commits">
        ${c.shipped.map((commit) => html`<li><span class="mono">+ ${shortCommit(commit.sha)}</span> ${commit.subject} <span class="muted">${commit.author}</span></li>`)}
        ${c.removed.map((commit) => html`<li><span class="mono">− ${shortCommit(commit.sha)}</span> ${commit.subject} <span class="muted">${commit.author}</span></li>`)}
      </ul>`}`,
    )}
  </div>`;
}
