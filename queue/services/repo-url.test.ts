import { describe, expect, it } from 'vitest';
import { redactRepoUrl, repoKind, repoUrlProblem } from './repo-url.ts';

describe('repository addresses', () => {
  it('accepts https, ssh and local repositories, and nothing that runs programs or goes unauthenticated', () => {
    expect(repoKind('https://github.com/acme/api.git')).toBe('https');
    expect(repoKind('ssh://git@github.com/acme/api.git')).toBe('ssh');
    expect(repoKind('git@github.com:acme/api.git')).toBe('ssh');
    expect(repoKind('/srv/git/api')).toBe('file');
    expect(repoKind('file:///srv/git/api')).toBe('file');
    for (const refused of ['http://example.com/api.git', 'git://example.com/api.git', 'ext::sh -c touch% /tmp/pwned', '--upload-pack=touch /tmp/x', 'relative/path', 'fd::3']) {
      expect(repoKind(refused), refused).toBeNull();
      expect(repoUrlProblem(refused), refused).toMatch(/https:\/\/ or ssh:\/\//);
    }
  });

  it('refuses passwords in the URL, pointing at a credential helper', () => {
    expect(repoUrlProblem('https://bot:ghp_secret@github.com/acme/api.git')).toMatch(/credential helper/);
    expect(repoUrlProblem('https://github.com/acme/api.git')).toBeNull();
  });

  it('hides credentials when a URL is shown', () => {
    expect(redactRepoUrl('https://bot:ghp_secret@github.com/acme/api.git')).toBe('https://***@github.com/acme/api.git');
    expect(redactRepoUrl('https://ghp_token@github.com/acme/api.git')).toBe('https://***@github.com/acme/api.git');
    expect(redactRepoUrl('ssh://git@github.com/acme/api.git')).toBe('ssh://git@github.com/acme/api.git');
    expect(redactRepoUrl('git@github.com:acme/api.git')).toBe('git@github.com:acme/api.git');
    expect(redactRepoUrl("fatal: unable to access 'https://bot:pw@github.com/acme/api.git/': 403")).toBe("fatal: unable to access 'https://***@github.com/acme/api.git/': 403");
  });
});
