import { Command, InvalidArgumentError } from 'commander';
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
  buildEnv: string[];
  buildNetwork: boolean;
  waves?: string;
  autoRollback?: boolean;
}

/** `on` or `off` of --auto-rollback. */
function onOff(value: string): boolean {
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw new InvalidArgumentError(`--auto-rollback takes on or off, got "${value}"`);
}

/** `NAME=VALUE` of --build-env, repeatable. */
function collectSetting(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function buildSettings(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new InvalidArgumentError(`--build-env takes NAME=VALUE, got "${pair}"`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

function addCommand(): Command {
  const command = clientCommand('add', 'register a service: where its code is, how to build it, what the build produces')
    .argument('<name>', 'service name: lower-case letters, digits and dashes, starting with a letter')
    .requiredOption('--repo <url-or-path>', 'git repository URL or local path')
    .requiredOption('--build <cmd>', 'build command, run in the checkout (FLEETCAST_OUT, FLEETCAST_COMMIT… set)')
    .requiredOption('--artifact <path>', 'the file the build produces, relative to the checkout')
    .option('--run <cmd>', 'command that runs the service on each machine')
    .option('--health-url <url>', 'URL agents check after switching builds (2xx = healthy)')
    .option('--branch <branch>', 'branch (several: comma-separated) whose commits may be built and whose pushes the webhook builds (default main)')
    .option('--build-env <name=value>', 'a variable the build command gets (repeatable); builds get nothing else of the worker', collectSetting, [])
    .option('--no-build-network', 'builds run without any network (default: they may fetch dependencies)')
    .option('--waves <plan>', "its own wave plan, as FLEETCAST_DEPLOY_WAVES: canary, all, or waves such as \"eu:1%;eu;us,ap\" (a share of a region first) (default: the coordinator's)")
    .option('--auto-rollback <on|off>', 'roll a failed wave back automatically, whatever FLEETCAST_DEPLOY_AUTO_ROLLBACK says (default: as it says)', onOff)
    .action(async (name: string, options: AddOptions) => {
      const service = await apiClient(command).post<ServiceJson>('/v1/services', {
        name,
        repo: options.repo,
        buildCommand: options.build,
        artifactPath: options.artifact,
        ...(options.run === undefined ? {} : { runCommand: options.run }),
        ...(options.healthUrl === undefined ? {} : { healthUrl: options.healthUrl }),
        ...(options.branch === undefined ? {} : { branch: options.branch }),
        ...(options.buildEnv.length === 0 ? {} : { buildEnv: buildSettings(options.buildEnv) }),
        ...(options.buildNetwork ? {} : { buildNetwork: false }),
        ...(options.waves === undefined ? {} : { wavePlan: options.waves }),
        ...(options.autoRollback === undefined ? {} : { autoRollback: options.autoRollback }),
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
