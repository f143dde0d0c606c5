import type { ConfigSources } from '../config/index.ts';
import { loadCoordinatorConfig } from './config.ts';
import { runCoordinator } from './run.ts';

/** `fleetcast coordinator`: runs until SIGINT/SIGTERM, then stops in order. */
export async function main(sources: ConfigSources): Promise<void> {
  const handle = await runCoordinator(loadCoordinatorConfig(sources));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await handle.stop();
}
