import type { Command } from 'commander';
import type { DeploymentJson } from '../../api-contract/index.ts';
import { durationMs, humanDuration } from '../../config/index.ts';
import { FleetcastError } from '../../errors/index.ts';
import type { ApiClient } from '../../api-client/index.ts';
import { wantsJson } from '../client-command.ts';
import { deploymentLine, progressSummary } from '../format/deploy-text.ts';
import { followDeployment } from './follow-deployment.ts';
import { printResult } from '../output.ts';

export interface WaitOptions {
  wait?: boolean;
  timeout?: string;
}

/** `--wait` and `--timeout` of deploy and rollback. */
export function addWaitOptions(command: Command): Command {
  return command
    .option('--wait', 'follow the rollout until every region converged (exit 0) or it failed, was aborted, rolled back or superseded (exit 1)')
    .option('--timeout <duration>', 'with --wait: give up waiting after this long (exit 1; the rollout goes on)', '30m');
}

/**
 * Prints the deployment, or with --wait follows it on /v1/events (pushed, never polled) and
 * prints the final progress; the exit code says whether the fleet converged.
 */
export async function finishDeployCommand(command: Command, client: ApiClient, deployment: DeploymentJson, options: WaitOptions, note = ''): Promise<void> {
  const json = wantsJson(command);
  if (!options.wait) {
    printResult(json, deployment, () => deploymentLine(deployment) + note);
    return;
  }
  const timeoutMs = parseTimeout(options.timeout);
  // stdout carries only the JSON document with --json: progress goes to stderr then.
  const out = json ? process.stderr : process.stdout;
  out.write(deploymentLine(deployment) + note + '\n');
  if (deployment.spooled) {
    // No row to follow while SQL is down: the goals are written, the agents move on their own.
    printResult(json, deployment, () => 'the database is down: follow the fleet with fleetcast status ' + deployment.service);
    return;
  }
  const final = await followDeployment(client, deployment.id, {
    display: out,
    timeoutMs,
    timeoutError: (last) =>
      new FleetcastError('TIMED_OUT', `${deployment.id} had not converged after ${humanDuration(timeoutMs)}; the rollout goes on — follow it with fleetcast deployment show ${deployment.id} --follow`, {
        deployment: deployment.id,
        progress: last ?? null,
      }),
  });
  printResult(json, final, () => progressSummary(final));
  if (!final.deployment.convergedAt) process.exitCode = 1;
}

/** Checked before anything is sent: a typo in --timeout must not leave a deployment behind an exit code 2. */
export function parseTimeout(text: string | undefined): number {
  const result = durationMs.safeParse(text ?? '30m');
  if (!result.success || result.data <= 0) throw new FleetcastError('INVALID_INPUT', `--timeout ${text}: write a duration such as 90s, 30m or 2h`, { timeout: text });
  return result.data;
}
