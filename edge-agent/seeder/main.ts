import type { ConfigSources } from '../../config/index.ts';
import { loadSeederConfig } from './config.ts';
import { runSeeder } from './run.ts';

/** `fleetcast seeder --region R`: seeds until SIGINT/SIGTERM, then stops in order. */
export async function main(sources: ConfigSources): Promise<void> {
  const handle = await runSeeder(loadSeederConfig(sources));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await handle.stop();
}
