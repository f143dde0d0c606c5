import type { ConfigSources } from '../../config/index.ts';
import { loadDhtConfig } from './config.ts';
import { runDht } from './run.ts';

/** `fleetcast dht --listen host:port`: serves the fleet's DHT until SIGINT/SIGTERM. */
export async function main(sources: ConfigSources): Promise<void> {
  const handle = await runDht(loadDhtConfig(sources));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await handle.stop();
}
