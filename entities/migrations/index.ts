import { ServicesAndBuilds } from './0001-services-and-builds.ts';
import { Replications } from './0002-replications.ts';
import { DeploymentsLocksAudit } from './0003-deployments-locks-audit.ts';
import { WavesIdempotencyCommits } from './0004-waves-idempotency-commits.ts';
import { WebhookDeliveriesAuditIndexes } from './0005-webhook-deliveries-audit-indexes.ts';
import { HonestDeploymentStates } from './0006-honest-deployment-states.ts';
import { BuildSandboxBranchOverride } from './0007-build-sandbox-branch-override.ts';
import { ServiceWavePlanAutoRollback } from './0008-service-wave-plan-auto-rollback.ts';
import { ServiceMetricGates } from './0009-service-metric-gates.ts';
import { ServicesAsCodeGithubOutbox } from './0010-services-as-code-github-outbox.ts';
import { DeliveryLoop } from './0011-delivery-loop.ts';
import { LeasesSlackReplays } from './0012-leases-slack-replays.ts';

/** Every migration, in order. Append only. */
export const migrations = [
  ServicesAndBuilds,
  Replications,
  DeploymentsLocksAudit,
  WavesIdempotencyCommits,
  WebhookDeliveriesAuditIndexes,
  HonestDeploymentStates,
  BuildSandboxBranchOverride,
  ServiceWavePlanAutoRollback,
  ServiceMetricGates,
  ServicesAsCodeGithubOutbox,
  DeliveryLoop,
  LeasesSlackReplays,
];
