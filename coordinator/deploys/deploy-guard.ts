import type { Build } from '../../queue/index.ts';

/**
 * What a deploy must pass besides the build and the lock (freeze windows, the pre-deploy check:
 * coordinator/delivery/). It runs after the build is found deployable and before anything is
 * written; it throws a coded error (FROZEN, CHECK_FAILED) to refuse. Rollbacks never pass
 * through it: a rollback is always allowed.
 */
export interface DeployGuard {
  admit(build: Build, request: GuardRequest): Promise<GuardPass>;
}

/** What of a deploy request the guard reads. */
export interface GuardRequest {
  by: string;
  /** An admin's reason to deploy inside a freeze window. */
  overrideFreeze?: string | undefined;
}

/** What a deploy that passed carries: audit detail, and a hook to tie the check run to the deployment made. */
export interface GuardPass {
  detail: Record<string, unknown>;
  started(deploymentId: string): Promise<void>;
}
