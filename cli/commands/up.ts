import { Command } from 'commander';

export function upCommand(): Command {
  return new Command('up')
    .description('run a whole installation on this machine: NATS hub and a leaf per region, DHT, coordinator, workers, seeders and agents (embedded defaults: SQLite, bucket folders)')
    .option('--regions <a,b>', 'regions, comma-separated (default eu,us,ap)')
    .option('--agents <n>', 'agents (machines) per region (default 2)')
    .option('--workers <n>', 'builder workers (default 2)')
    .option('--seeders <n>', 'seeders per region (default 1)')
    .option('--ha', 'high availability: the NATS hub and each region as 3-server clusters (buckets replicated 3 times), 2 coordinators')
    .option('--dir <dir>', 'where everything is kept (default FLEETCAST_DATA_DIR, else ~/.fleetcast); up.json is written there once all is ready')
    .addHelpText('after', '\nSettings such as FLEETCAST_DATABASE_URL or FLEETCAST_BLOBSTORE=gcs in the environment are passed on to every process.')
    .action(async (options: Record<string, string | boolean | undefined>) => (await import('../../up/main.ts')).main(options));
}
