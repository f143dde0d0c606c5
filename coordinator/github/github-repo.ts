/** A repository on GitHub (or GitHub Enterprise), as its REST API names it. */
export interface GithubRepo {
  owner: string;
  repo: string;
}

const segment = /^[A-Za-z0-9_.-]+$/;

/**
 * The owner and name of a service's repository from its git URL (https://host/owner/name.git,
 * ssh://git@host/owner/name.git, git@host:owner/name.git); null for local repositories and any
 * URL that does not end in owner/name — those services get no GitHub statuses.
 */
export function githubRepoOf(url: string): GithubRepo | null {
  let path: string | null = null;
  const scp = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!\/\/)(.+)$/.exec(url);
  if (scp) path = scp[1]!;
  else if (/^(https|ssh):\/\//i.test(url)) {
    try {
      path = new URL(url).pathname;
    } catch {
      return null;
    }
  }
  if (path === null) return null;
  const parts = path.replace(/^\/+|\/+$/g, '').replace(/\.git$/, '').split('/');
  if (parts.length !== 2 || !parts.every((part) => segment.test(part) && part !== '.' && part !== '..')) return null;
  return { owner: parts[0]!, repo: parts[1]! };
}
