// GitHub commit statuses for builds and deployments for deploys and rollbacks, through a durable outbox (issue 23).
export { GithubRelay, type GithubRelayOptions } from './github-relay.ts';
export { GithubOutbox, type OutboxRow } from './github-outbox.ts';
export { githubRepoOf, type GithubRepo } from './github-repo.ts';
export type { GithubAuth } from './github-delivery.ts';
export { githubAuth } from './github-auth.ts';
