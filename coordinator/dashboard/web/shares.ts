import { html } from 'htm/preact';
import type { ConvergenceJson } from '../../../api-contract/deployment-json.ts';
import { percent } from './format.ts';

/**
 * Where a region's machines stand, as a bar and numbers of fixed width: running the goal,
 * holding it in progress (downloading…), failed, silent, other. Widths are shares, so the bar
 * never changes size while the numbers move.
 */
export function Shares({ c }: { c: ConvergenceJson }) {
  if (!c.known) return html`<span class="muted">reports unreadable</span>`;
  const total = c.machines;
  const parts = [
    ['running', c.running],
    ['holding', c.downloading.machines],
    ['failed', c.failed.machines],
    ['silent', c.silent],
    ['other', Math.max(0, total - c.running - c.downloading.machines - c.failed.machines - c.silent)],
  ] as const;
  return html`<div class="shares" aria-label=${parts.map(([name, n]) => `${n} ${name}`).join(', ') + ` of ${total}`}>
    <div class="bar" aria-hidden="true">${parts.map(([name, n]) => html`<span class=${`seg ${name}`} style=${{ width: total ? `${(n / total) * 100}%` : '0' }}></span>`)}</div>
    <span class="num" data-running=${c.running} data-machines=${total}>${percent(c.running, total)} running</span>
    <span class="num">${c.downloading.machines} holding</span>
    <span class=${c.failed.machines ? 'num bad' : 'num'}>${c.failed.machines} failed</span>
    <span class=${c.silent ? 'num warn' : 'num'}>${c.silent} silent</span>
  </div>`;
}

/** A deployment or build state as a colored badge (text too: never color alone). */
export function Badge({ state }: { state: string }) {
  return html`<span class=${`badge ${state.toLowerCase()}`}>${state}</span>`;
}
