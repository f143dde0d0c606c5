import type { ConfigSources } from '../config/index.ts';
import { loadBuilderConfig } from './config.ts';
import { runBuilder } from './run.ts';

/**
 * `fleetcast worker`: builds until SIGTERM/SIGINT, then gives its running builds back to the
 * queue (another worker starts them over) rather than holding a deploy up for 15 minutes.
 */
export async function main(sources: ConfigSources): Promise<void> {
  const handle = await runBuilder(loadBuilderConfig(sources));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await handle.stop({ release: true });
}
