import type { Build } from '../../queue/index.ts';
import type { DeployRequest } from './deploy-service.ts';

/**
 * What a deploy must pass besides the build and the lock (freeze windows, the pre-deploy check:
 * coordinator/delivery/). It runs after the build is found deployable and before anything is
 * written; it throws a coded error (FROZEN, CHECK_FAILED) to refuse. Rollbacks never pass
 * through it: a rollback is always allowed.
 */
export interface DeployGuard {
  admit(build: Build, request: DeployRequest): Promise<GuardPass>;
}

/** What a deploy that passed carries: audit detail, and a hook to tie the check run to the deployment made. */
export interface GuardPass {
  detail: Record<string, unknown>;
  started(deploymentId: string): Promise<void>;
}
