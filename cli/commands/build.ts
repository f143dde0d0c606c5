import { Command } from 'commander';
import type { BuildJson } from '../../api-contract/index.ts';
import { streamEvents, type ApiClient } from '../../api-client/index.ts';
import { apiClient, clientCommand, wantsJson } from '../client-command.ts';
import { buildSummary, shortCommit } from '../format/build-text.ts';
import { WaitProgress } from '../format/wait-progress.ts';
import { printResult } from '../output.ts';

const isFinal = (build: BuildJson) => build.status === 'SUCCEEDED' || build.status === 'FAILED';

/** Follows the build on /v1/events until it is final. */
async function waitForFinal(client: ApiClient, build: BuildJson, progress: WaitProgress): Promise<BuildJson> {
  if (isFinal(build)) return build;
  try {
    return await streamEvents(client, {
      subscription: () => ({ subscribe: 'build', id: build.id }),
      onMessage: (message) => {
        if (message.type !== 'build') return undefined;
        progress.update(message.build);
        return isFinal(message.build) ? message.build : undefined;
      },
    });
  } finally {
    progress.stop();
  }
}

export function buildCommand(): Command {
  const command = clientCommand('build', 'queue a build of a service at a commit and print its id (b42)')
    .argument('<service>', 'service name')
    .argument('<commit>', 'commit sha, 7 to 64 hex characters')
    .option('--wait', 'wait until the build is final, showing its progress; exit 0 if it SUCCEEDED, 1 if it FAILED')
    .option('--force', 'queue a new build even if this commit is already QUEUED or RUNNING')
    .option('--override-branch', "admin only, audited: build the commit even if it is not on the service's branch")
    .action(async (service: string, commit: string, options: { wait?: boolean; force?: boolean; overrideBranch?: boolean }) => {
      const json = wantsJson(command);
      const client = apiClient(command);
      const { status, body: build } = await client.json<BuildJson>('POST', '/v1/builds', {
        service,
        commit,
        force: options.force === true,
        ...(options.overrideBranch ? { overrideBranch: true } : {}),
      });
      const queued =
        status === 201
          ? `queued ${build.id} (${build.service} @ ${shortCommit(build.commit)})`
          : `${build.id} is already ${build.status} for ${build.service} @ ${shortCommit(build.commit)} (--force queues another)`;
      if (!options.wait) {
        printResult(json, build, () => queued);
        return;
      }
      // stdout carries only the JSON document with --json: progress goes to stderr then.
      const out = json ? process.stderr : process.stdout;
      out.write(queued + '\n');
      const progress = new WaitProgress(out);
      progress.update(build);
      const final = await waitForFinal(client, build, progress);
      printResult(json, final, () => buildSummary(final));
      if (final.status === 'FAILED') process.exitCode = 1;
    });
  return command;
}
