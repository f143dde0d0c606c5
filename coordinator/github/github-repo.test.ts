import { describe, expect, it } from 'vitest';
import { githubRepoOf } from './github-repo.ts';

describe('the GitHub repository of a service', () => {
  it('is read from https, ssh and scp-like URLs, with or without .git', () => {
    expect(githubRepoOf('https://github.com/acme/api.git')).toEqual({ owner: 'acme', repo: 'api' });
    expect(githubRepoOf('https://github.example.com/acme/api')).toEqual({ owner: 'acme', repo: 'api' });
    expect(githubRepoOf('ssh://git@github.com/acme/api.git')).toEqual({ owner: 'acme', repo: 'api' });
    expect(githubRepoOf('git@github.com:acme/web.git')).toEqual({ owner: 'acme', repo: 'web' });
  });

  it('is none for local repositories and paths that are not owner/name', () => {
    for (const url of ['/srv/git/api', 'file:///srv/git/api', 'https://gitlab.example.com/group/sub/api.git', 'https://github.com/acme', 'git@github.com:../x.git']) {
      expect(githubRepoOf(url), url).toBeNull();
    }
  });
});
