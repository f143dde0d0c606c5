import { Command } from 'commander';

export function demoCommand(): Command {
  return new Command('demo')
    .description('run the fleetcast story end to end on this machine: a sample service, fleetcast up, build, replicate, deploy in waves, build 2, deploy, roll back — then a summary')
    .option('--dir <dir>', 'keep the installation here (default: a temporary directory, removed at the end)')
    .option('--keep', 'keep the installation up after the story (dashboard, API) until Ctrl-C, and its directory (logs, agents, buckets) for a look afterwards')
    .option('--regions <a,b>', 'regions (default eu,us,ap)')
    .option('--agents <n>', 'agents per region (default 2)')
    .action(async (options: { dir?: string; keep?: boolean; regions?: string; agents?: string }) => (await import('../../up/demo-main.ts')).main(options));
}
