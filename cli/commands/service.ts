import { Command } from 'commander';
import type { ServiceJson, ServiceListJson } from '../../api-contract/index.ts';
import { apiClient, clientCommand, wantsJson } from '../client-command.ts';
import { serviceDetails } from '../format/build-text.ts';
import { table } from '../format/table.ts';
import { printResult } from '../output.ts';

interface AddOptions {
  repo: string;
  build: string;
  artifact: string;
  run?: string;
  healthUrl?: string;
  branch?: string;
}

function addCommand(): Command {
  const command = clientCommand('add', 'register a service: where its code is, how to build it, what the build produces')
    .argument('<name>', 'service name: lower-case letters, digits and dashes, starting with a letter')
    .requiredOption('--repo <url-or-path>', 'git repository URL or local path')
    .requiredOption('--build <cmd>', 'build command, run in the checkout (FLEETCAST_OUT, FLEETCAST_COMMIT… set)')
    .requiredOption('--artifact <path>', 'the file the build produces, relative to the checkout')
    .option('--run <cmd>', 'command that runs the service on each machine')
    .option('--health-url <url>', 'URL agents check after switching builds (2xx = healthy)')
    .option('--branch <branch>', 'branch whose pushes the git webhook builds (default main)')
    .action(async (name: string, options: AddOptions) => {
      const service = await apiClient(command).post<ServiceJson>('/v1/services', {
        name,
        repo: options.repo,
        buildCommand: options.build,
        artifactPath: options.artifact,
        ...(options.run === undefined ? {} : { runCommand: options.run }),
        ...(options.healthUrl === undefined ? {} : { healthUrl: options.healthUrl }),
        ...(options.branch === undefined ? {} : { branch: options.branch }),
      });
      printResult(wantsJson(command), service, () => `registered service ${service.name}\n${serviceDetails(service)}`);
    });
  return command;
}

function listCommand(): Command {
  const command = clientCommand('list', 'list services').action(async () => {
    const result = await apiClient(command).get<ServiceListJson>('/v1/services');
    printResult(wantsJson(command), result, () =>
      result.services.length === 0
        ? 'no services yet; register one with: fleetcast service add NAME --repo … --build … --artifact …'
        : table(
            ['NAME', 'BRANCH', 'REPO', 'BUILD', 'ARTIFACT'],
            result.services.map((s) => [s.name, s.branch, s.repo, s.buildCommand, s.artifactPath]),
          ),
    );
  });
  return command;
}

function showCommand(): Command {
  const command = clientCommand('show', 'show one service')
    .argument('<name>', 'service name')
    .action(async (name: string) => {
      const service = await apiClient(command).get<ServiceJson>(`/v1/services/${encodeURIComponent(name)}`);
      printResult(wantsJson(command), service, () => serviceDetails(service));
    });
  return command;
}

export function serviceCommand(): Command {
  return new Command('service')
    .description('register and inspect services (add, list, show)')
    .addCommand(addCommand())
    .addCommand(listCommand())
    .addCommand(showCommand());
}
