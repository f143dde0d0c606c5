import { Teardown } from '../../lifecycle/index.ts';
import { createLogger, type Logger } from '../../logging/index.ts';
import { DhtBootstrap } from '../p2p/dht-bootstrap.ts';
import type { DhtConfig } from './config.ts';

export interface DhtHandle {
  dht: DhtBootstrap;
  /** `host:port` for FLEETCAST_DHT_BOOTSTRAP. */
  listen: string;
  stop(): Promise<void>;
}

export async function runDht(config: DhtConfig, overrides: { logger?: Logger } = {}): Promise<DhtHandle> {
  const logger = overrides.logger ?? createLogger({ level: config.FLEETCAST_LOG_LEVEL, bindings: { role: 'dht' } });
  const teardown = new Teardown(logger);
  const dht = await DhtBootstrap.start({ host: config.FLEETCAST_LISTEN.host, port: config.FLEETCAST_LISTEN.port, logger });
  teardown.add('the DHT node', () => dht.close());
  // '<role> ready', as every role says it (fleetcast up waits for that line).
  logger.info({ listen: dht.listen, hint: `give peers FLEETCAST_DHT_BOOTSTRAP=${dht.listen}` }, 'dht ready');
  return {
    dht,
    listen: dht.listen,
    async stop() {
      await teardown.run();
      logger.info('DHT bootstrap stopped');
    },
  };
}
