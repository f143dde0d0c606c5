import { z } from 'zod';
import type { Service } from '../../../queue/services/index.ts';

/** The parts of a GitHub-style push event fleetcast reads; everything else is ignored. */
export const pushEvent = z
  .looseObject({
    ref: z.string().meta({ description: 'refs/heads/<branch>' }),
    after: z.string().meta({ description: 'the commit the branch now points at; 40 zeros when the branch was deleted' }),
    deleted: z.boolean().optional(),
    repository: z.looseObject({
      clone_url: z.string().optional(),
      html_url: z.string().optional(),
      ssh_url: z.string().optional(),
      git_url: z.string().optional(),
      svn_url: z.string().optional(),
      url: z.string().optional(),
    }),
  })
  .meta({ id: 'PushEvent' });

export type PushEvent = z.output<typeof pushEvent>;

export function isDeletion(event: PushEvent): boolean {
  return event.deleted === true || /^0+$/.test(event.after);
}

/**
 * One spelling per repository, so `https://github.com/o/r`, `…/o/r.git/` and `file:///srv/r`
 * vs `/srv/r` compare equal. Hosted URLs are compared case-insensitively (GitHub's are);
 * local paths are not.
 */
export function normalizeRepo(repo: string): string {
  let text = repo.trim().replace(/\/+$/, '').replace(/\.git$/, '');
  if (text.startsWith('file://')) return decodeURIComponent(text.slice('file://'.length)).replace(/\/+$/, '');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || /^[^/\s]+@[^/\s]+:/.test(text)) text = text.toLowerCase();
  return text;
}

/** Services built from the pushed repository and branch. */
export function servicesForPush(services: readonly Service[], event: PushEvent): Service[] {
  const match = /^refs\/heads\/(.+)$/.exec(event.ref);
  if (!match) return [];
  const branch = match[1]!;
  const { clone_url, html_url, ssh_url, git_url, svn_url, url } = event.repository;
  const addresses = new Set([clone_url, html_url, ssh_url, git_url, svn_url, url].filter((value) => value !== undefined).map(normalizeRepo));
  return services.filter((service) => service.branch.split(',').includes(branch) && addresses.has(normalizeRepo(service.repo)));
}
