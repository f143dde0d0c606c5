import type { ConfigSources } from '../../config/index.ts';
import { loadAgentConfig } from './config.ts';
import { runAgent } from './run.ts';

/**
 * `fleetcast agent`: runs until SIGINT/SIGTERM, then stops — leaving the services running, so
 * that restarting or upgrading the agent is no outage (the next agent adopts them), unless
 * FLEETCAST_AGENT_STOP_SERVICES says to stop them too (a local installation going down). A
 * configuration the leaf refuses (wrong region, credentials) ends it with that error.
 */
export async function main(sources: ConfigSources): Promise<void> {
  const config = loadAgentConfig(sources);
  const handle = await runAgent(config);
  const failed = handle.ready.then(
    () => new Promise<never>(() => undefined),
    (err: unknown) => err,
  );
  const signalled = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  const outcome = await Promise.race([signalled, failed]);
  await handle.stop({ stopServices: config.FLEETCAST_AGENT_STOP_SERVICES });
  if (outcome !== undefined) throw outcome;
  // A NATS client still waiting for an unreachable leaf would keep the process alive.
  process.exit(0);
}
