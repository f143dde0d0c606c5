import { Command } from 'commander';
import { agentSettings } from '../../edge-agent/agent/config.ts';
import { addSettingOptions, settingFlags } from '../setting-options.ts';

export function agentCommand(): Command {
  const command = new Command('agent')
    .description(
      "run the edge agent of one machine: watch the region's goals (on its NATS leaf), fetch each build, verify its sha256, install it under <agent dir>/services/<service>/builds/<build>/, switch `current`, run and health-check it, keep the last builds for instant rollbacks, report to the region",
    )
    .addHelpText(
      'after',
      `
Example: fleetcast agent --region eu --machine web-1 --nats-url nats://agent:PASSWORD@leaf-eu:4222

On SIGTERM the agent stops and leaves the services running; the next agent on the same
agent dir adopts them (one agent per dir). Each service's output goes to
<agent dir>/services/<service>/logs/<build>.log.`,
    )
    .action(async () => (await import('../../edge-agent/agent/main.ts')).main({ flags: settingFlags(command, agentSettings) }));
  return addSettingOptions(command, agentSettings);
}
