import type { ConfigSources } from '../config/index.ts';
import { loadBotConfig } from './config.ts';
import { runBot } from './run.ts';

/** `fleetcast bot`: answers Slack until SIGINT/SIGTERM, then stops in order. */
export async function main(sources: ConfigSources): Promise<void> {
  const handle = await runBot(loadBotConfig(sources));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await handle.stop();
}
