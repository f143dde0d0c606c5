/**
 * Repository addresses fleetcast accepts: https://, ssh:// and scp-like `user@host:path`, and
 * local repositories (an absolute path or file://) where a worker allows them
 * (FLEETCAST_GIT_ALLOW_FILE). No git:// or http:// (unauthenticated, spoofable), no ext:: or
 * other transports that run programs. Credentials never go in the URL: a credential helper or
 * ssh key supplies them.
 */
export type RepoKind = 'https' | 'ssh' | 'file';

const scpLike = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!\/\/)/;

export function repoKind(repo: string): RepoKind | null {
  if (repo.startsWith('-')) return null;
  if (/^https:\/\//i.test(repo)) return 'https';
  if (/^ssh:\/\//i.test(repo) || scpLike.test(repo)) return 'ssh';
  if (/^file:\/\//i.test(repo) || repo.startsWith('/')) return 'file';
  return null;
}

/** Why the repository address is refused, or null when it is fine to register. */
export function repoUrlProblem(repo: string): string | null {
  if (repoKind(repo) === null) {
    return 'the repository must be an https:// or ssh:// URL (or user@host:path), or an absolute path / file:// URL for a local repository';
  }
  if (/^[a-z]+:\/\/[^/@]*:[^/@]*@/i.test(repo)) {
    return 'the repository URL holds a password: remove it and give the workers a git credential helper or ssh key instead';
  }
  return null;
}

/** The address (or a message quoting addresses) with credentials (user:password@, or an https token@) hidden, for the API, logs and Slack. */
export function redactRepoUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^/@\s]*)@/gi, (whole, scheme: string, userinfo: string) =>
    userinfo.includes(':') || /^https?:/i.test(scheme) ? `${scheme}***@` : whole,
  );
}
