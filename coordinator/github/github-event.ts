/** The states GitHub knows for a commit status and for a deployment status. */
export type CommitState = 'pending' | 'success' | 'failure' | 'error';
export type DeploymentState = 'queued' | 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';

/**
 * One call to GitHub waiting in the outbox. A deployment status names the outbox row that
 * creates its deployment (`deployment`): GitHub's id for it is known only once that row is delivered.
 */
export type GithubEvent =
  | { kind: 'commit-status'; sha: string; state: CommitState; context: string; description: string }
  | { kind: 'deployment'; sha: string; environment: string; task: string; description: string; payload: Record<string, string> }
  | { kind: 'deployment-status'; deployment: string; environment: string; state: DeploymentState; description: string };

/** GitHub refuses descriptions over 140 characters. */
export function shortDescription(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= 140 ? line : `${line.slice(0, 139)}…`;
}
