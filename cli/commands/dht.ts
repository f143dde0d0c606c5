import { Command } from 'commander';
import { defaultDhtAddress } from '../../config/index.ts';
import { dhtSettings } from '../../edge-agent/dht/config.ts';
import { addSettingOptions, settingFlags } from '../setting-options.ts';

export function dhtCommand(): Command {
  const command = new Command('dht')
    .description(`run a DHT bootstrap node (with two helper nodes) for fleets without the public DHT: seeders and agents meet through it (FLEETCAST_DHT_BOOTSTRAP); default --listen ${defaultDhtAddress}`)
    .action(async () => (await import('../../edge-agent/dht/main.ts')).main({ flags: settingFlags(command, dhtSettings) }));
  return addSettingOptions(command, dhtSettings);
}
