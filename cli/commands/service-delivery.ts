import { Command, InvalidArgumentError } from 'commander';
import type { DeliveryJson } from '../../api-contract/index.ts';
import { apiClient, clientCommand, wantsJson } from '../client-command.ts';
import { deliveryText } from '../format/delivery-text.ts';
import { printResult } from '../output.ts';

const servicePath = (name: string) => `/v1/services/${encodeURIComponent(name)}`;

/** `fleetcast service cd on|off NAME [--branch B]` */
export function continuousDeployCommand(): Command {
  const command = clientCommand('cd', "continuous deploy on or off: every SUCCEEDED build of the branch that is deployable everywhere is deployed with the service's wave plan (unless locked, frozen, a deploy is in progress or the check fails)")
    .argument('<on|off>', 'on or off')
    .argument('<name>', 'service name')
    .option('--branch <branch>', "one of the service's branches (default: its first)")
    .action(async (state: string, name: string, options: { branch?: string }) => {
      if (state !== 'on' && state !== 'off') throw new InvalidArgumentError(`say on or off, not "${state}"`);
      const delivery = await apiClient(command).post<DeliveryJson>(`${servicePath(name)}/continuous-deploy`, { enabled: state === 'on', ...(options.branch === undefined ? {} : { branch: options.branch }) });
      printResult(wantsJson(command), delivery, () => deliveryText(delivery));
    });
  return command;
}

/** `fleetcast service check NAME --command CMD | --url URL | --none` */
export function checkCommand(): Command {
  const command = clientCommand('check', 'the pre-deploy check, run before every deploy of the service: a command (in the build sandbox; exit 0 passes) or a URL (2xx passes)')
    .argument('<name>', 'service name')
    .option('--command <cmd>', 'a shell command (FLEETCAST_SERVICE, FLEETCAST_BUILD_ID, FLEETCAST_COMMIT, FLEETCAST_DIGEST set)')
    .option('--url <url>', 'an http(s) URL that must answer 2xx')
    .option('--timeout <ms>', 'fail the check after this many milliseconds (default FLEETCAST_CHECK_TIMEOUT)')
    .option('--none', 'remove the check')
    .action(async (name: string, options: { command?: string; url?: string; timeout?: string; none?: boolean }) => {
      const client = apiClient(command);
      let delivery: DeliveryJson;
      if (options.none) delivery = await client.delete<DeliveryJson>(`${servicePath(name)}/check`);
      else if (options.command === undefined && options.url === undefined) delivery = await client.get<DeliveryJson>(`${servicePath(name)}/delivery`);
      else {
        const timeoutMs = options.timeout === undefined ? undefined : Number(options.timeout);
        if (timeoutMs !== undefined && !Number.isInteger(timeoutMs)) throw new InvalidArgumentError(`--timeout takes milliseconds, not "${options.timeout}"`);
        delivery = await client.post<DeliveryJson>(`${servicePath(name)}/check`, {
          ...(options.command === undefined ? {} : { command: options.command }),
          ...(options.url === undefined ? {} : { url: options.url }),
          ...(timeoutMs === undefined ? {} : { timeoutMs }),
        });
      }
      printResult(wantsJson(command), delivery, () => deliveryText(delivery));
    });
  return command;
}

/** `fleetcast service delivery NAME`: continuous deploy and what it last did, the check and its last runs, the freezes. */
export function deliveryCommand(): Command {
  const command = clientCommand('delivery', 'continuous deploy (what it last did and why), the pre-deploy check and its last runs, the freezes that apply')
    .argument('<name>', 'service name')
    .action(async (name: string) => {
      const delivery = await apiClient(command).get<DeliveryJson>(`${servicePath(name)}/delivery`);
      printResult(wantsJson(command), delivery, () => deliveryText(delivery));
    });
  return command;
}
