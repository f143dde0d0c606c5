import { Command, InvalidArgumentError } from 'commander';
import type { RemovedServiceJson, ServiceJson, ServiceListJson } from '../../api-contract/index.ts';
import { durationOrZeroMs } from '../../config/index.ts';
import { FleetcastError } from '../../errors/index.ts';
import { apiClient, clientCommand, wantsJson } from '../client-command.ts';
import { serviceDetails } from '../format/build-text.ts';
import { table } from '../format/table.ts';
import { printResult } from '../output.ts';
import { checkCommand, continuousDeployCommand, deliveryCommand } from './service-delivery.ts';

interface AddOptions {
  repo: string;
  build: string;
  artifact: string;
  run?: string;
  healthUrl?: string;
  branch?: string;
  buildEnv: string[];
  buildNetwork: boolean;
  gateQuery?: string;
  gateMax?: number;
  gateFor?: number;
  waves?: string;
  autoRollback?: boolean;
}

function gateMax(value: string): number {
  const max = Number(value);
  if (value.trim() === '' || !Number.isFinite(max)) throw new InvalidArgumentError(`--gate-max takes a number, got "${value}"`);
  return max;
}

function gateFor(value: string): number {
  const parsed = durationOrZeroMs.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(`--gate-for takes a duration such as 30s or 5m, got "${value}"`);
  return parsed.data;
}

/** --gate-query with --gate-max (and --gate-for) make the metric gate; either alone is a mistake worth saying. */
function metricGate(options: Pick<AddOptions, 'gateQuery' | 'gateMax' | 'gateFor'>): { query: string; max: number; holdMs?: number } | undefined {
  if (options.gateQuery === undefined && options.gateMax === undefined && options.gateFor === undefined) return undefined;
  if (options.gateQuery === undefined || options.gateMax === undefined) {
    throw new FleetcastError('INVALID_INPUT', 'a metric gate needs both --gate-query and --gate-max (and optionally --gate-for)', {});
  }
  return { query: options.gateQuery, max: options.gateMax, ...(options.gateFor === undefined ? {} : { holdMs: options.gateFor }) };
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
    .option('--gate-query <promql>', 'metric gate: PromQL query with {{region}}, {{build}}, {{service}}, checked during each wave\'s soak (needs FLEETCAST_PROMETHEUS_URL on the coordinator)')
    .option('--gate-max <number>', 'metric gate: the wave fails when the query answers more than this in one of its regions', gateMax)
    .option('--gate-for <duration>', 'metric gate: how long after a wave converged the query must stay within bounds (default 1m)', gateFor)
    .option('--waves <plan>', "its own wave plan, as FLEETCAST_DEPLOY_WAVES: canary, all, or waves such as \"eu:1%;eu;us,ap\" (a share of a region first) (default: the coordinator's)")
    .option('--auto-rollback <on|off>', 'roll a failed wave back automatically, whatever FLEETCAST_DEPLOY_AUTO_ROLLBACK says (default: as it says)', onOff)
    .action(async (name: string, options: AddOptions) => {
      const gate = metricGate(options);
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
        ...(gate === undefined ? {} : { metricGate: gate }),
        ...(options.waves === undefined ? {} : { wavePlan: options.waves }),
        ...(options.autoRollback === undefined ? {} : { autoRollback: options.autoRollback }),
      });
      printResult(wantsJson(command), service, () => `registered service ${service.name}\n${serviceDetails(service)}`);
    });
  return command;
}

/**
 * The flags of `service update` and the API field each sets. Generic on purpose: a setting
 * `service add` gains gets one row here. `clear` is the value that removes an optional setting
 * (`--run ''` runs nothing on the machines).
 */
const updateFlags: { flag: string; option: string; field: string; help: string; clearable?: boolean }[] = [
  { flag: '--build <cmd>', option: 'build', field: 'buildCommand', help: 'build command, run in the checkout' },
  { flag: '--artifact <path>', option: 'artifact', field: 'artifactPath', help: 'the file the build produces, relative to the checkout' },
  { flag: '--run <cmd>', option: 'run', field: 'runCommand', help: "command that runs the service on each machine ('' for none)", clearable: true },
  { flag: '--health <url>', option: 'health', field: 'healthUrl', help: "URL agents check after switching builds ('' for none)", clearable: true },
  { flag: '--branch <branch>', option: 'branch', field: 'branch', help: 'branch (several: comma-separated) whose commits may be built' },
  { flag: '--waves <plan>', option: 'waves', field: 'wavePlan', help: "its own wave plan, e.g. \"eu:1%;eu;us,ap\" ('' for the coordinator's)", clearable: true },
];

/** `on`, `off` or `default` (follow FLEETCAST_DEPLOY_AUTO_ROLLBACK) of `service update --auto-rollback` (commander stores a parser's null as ''). */
function onOffDefault(value: string): boolean | 'default' {
  return value === 'default' ? value : onOff(value);
}

function updateCommand(): Command {
  const command = clientCommand('update', 'change a service: only the settings given change (audited; repeating it changes nothing)').argument('<name>', 'service name');
  for (const { flag, help } of updateFlags) command.option(flag, help);
  command
    .option('--build-env <name=value>', 'replace the build settings (repeatable)', collectSetting, [])
    .option('--build-network', 'builds may reach the network')
    .option('--no-build-network', 'builds run without any network')
    .option('--auto-rollback <on|off|default>', "roll a failed wave back automatically (default: as FLEETCAST_DEPLOY_AUTO_ROLLBACK says)", onOffDefault)
    .option('--gate-query <promql>', 'metric gate: PromQL query with {{region}}, {{build}}, {{service}} (with --gate-max)')
    .option('--gate-max <number>', 'metric gate: the wave fails when the query answers more than this', gateMax)
    .option('--gate-for <duration>', 'metric gate: how long after a wave converged the query must stay within bounds (default 1m)', gateFor)
    .option('--no-gate', 'remove the metric gate: waves are judged on the agents\' health only')
    .option('--continuous-deploy', "deploy every SUCCEEDED, deployable build of the service's first branch by itself (as service cd on)")
    .option('--no-continuous-deploy', 'stop deploying builds by themselves (as service cd off)')
    .action(async (name: string, options: Record<string, unknown>) => {
      const change: Record<string, unknown> = {};
      for (const { option, field, clearable } of updateFlags) {
        const value = options[option];
        if (typeof value === 'string') change[field] = clearable && value.trim() === '' ? null : value;
      }
      const env = options.buildEnv as string[];
      if (env.length > 0) change.buildEnv = buildSettings(env);
      if (options.autoRollback !== undefined) change.autoRollback = options.autoRollback === 'default' ? null : options.autoRollback;
      // A gate is given whole (query and max); --no-gate clears it.
      if (options.gate === false) change.metricGate = null;
      else {
        const gate = metricGate(options as Pick<AddOptions, 'gateQuery' | 'gateMax' | 'gateFor'>);
        if (gate) change.metricGate = gate;
      }
      // commander sets buildNetwork true by default (the --no- form); only an explicit flag changes it.
      const networkSource = command.getOptionValueSource('buildNetwork');
      if (networkSource === 'cli') change.buildNetwork = options.buildNetwork;
      // Continuous deploy is the delivery loop's setting (its own route); only an explicit flag changes it.
      const continuousDeploy = command.getOptionValueSource('continuousDeploy') === 'cli' ? (options.continuousDeploy as boolean) : undefined;
      if (Object.keys(change).length === 0 && continuousDeploy === undefined) {
        command.error(`error: nothing to change: give at least one of ${updateFlags.map((f) => f.flag.split(' ')[0]).join(', ')}, --build-env, --[no-]build-network, --auto-rollback, --gate-query with --gate-max, --no-gate, --[no-]continuous-deploy`, { exitCode: 2, code: 'fleetcast.nothingToChange' });
      }
      const client = apiClient(command);
      const path = `/v1/services/${encodeURIComponent(name)}`;
      if (continuousDeploy !== undefined) await client.post(`${path}/continuous-deploy`, { enabled: continuousDeploy });
      const service = Object.keys(change).length > 0 ? await client.patch<ServiceJson>(path, change) : await client.get<ServiceJson>(path);
      printResult(wantsJson(command), service, () => `updated service ${service.name}\n${serviceDetails(service)}`);
    });
  return command;
}

function removeCommand(): Command {
  const command = clientCommand('remove', 'remove a service: new builds and deploys of it are refused; its builds, deployments and audit are kept')
    .argument('<name>', 'service name')
    .option('--force', 'remove it even while machines run it (they keep running their build)')
    .action(async (name: string, options: { force?: boolean }) => {
      const result = await apiClient(command).delete<RemovedServiceJson>(`/v1/services/${encodeURIComponent(name)}${options.force ? '?force=true' : ''}`);
      printResult(wantsJson(command), result, () => (result.changed ? `removed service ${result.name}` : `service ${result.name} was removed already`));
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
    .description('register, change, remove and inspect services (add, update, remove, list, show), their continuous deploy (cd), pre-deploy check (check) and delivery loop (delivery)')
    .addCommand(addCommand())
    .addCommand(updateCommand())
    .addCommand(removeCommand())
    .addCommand(listCommand())
    .addCommand(showCommand())
    .addCommand(continuousDeployCommand())
    .addCommand(checkCommand())
    .addCommand(deliveryCommand());
}
