import { Command, CommanderError } from 'commander';
import { agentCommand } from './commands/agent.ts';
import { botCommand } from './commands/bot.ts';
import { coordinatorCommand } from './commands/coordinator.ts';
import { demoCommand } from './commands/demo.ts';
import { upCommand } from './commands/up.ts';
import { migrateCommand } from './commands/migrate.ts';
import { workerCommand } from './commands/worker.ts';
import { replicatorCommand } from './commands/replicator.ts';
import { seederCommand } from './commands/seeder.ts';
import { dhtCommand } from './commands/dht.ts';
import { credsCommand } from './commands/creds.ts';
import { tokenCommand } from './commands/token.ts';
import { clientCommands } from './client-commands.ts';
import { reportError, reportUsageError } from './output.ts';

// Set by `fleetcast up` for its children: a child whose parent is gone (even by kill -9) stops
// itself cleanly, so a local installation never leaves processes behind.
if (process.env.FLEETCAST_EXIT_WITH_PARENT === '1') {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.kill(process.pid, 'SIGTERM');
  }, 1_000).unref();
}

const program = new Command('fleetcast')
  .description('Builds merged commits into binaries and ships them to every machine of a fleet.')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  // Each command's options are its own: `freeze SERVICE --reason …` and `freeze add --reason …` do not mix.
  .enablePositionalOptions()
  .exitOverride();

for (const command of [coordinatorCommand(), workerCommand(), replicatorCommand(), seederCommand(), agentCommand(), dhtCommand(), botCommand(), migrateCommand(), upCommand(), demoCommand(), credsCommand(), tokenCommand(), ...clientCommands()]) {
  program.addCommand(command.exitOverride().showHelpAfterError('(run with --help for usage)'));
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version end here too, with code 0; usage errors are exit code 2 (and, with
    // --json, still one JSON document on stdout; commander has told the person on stderr).
    if (err.exitCode === 0) process.exit(0);
    process.exit(reportUsageError(err, process.argv.includes('--json')));
  }
  process.exit(reportError(err, process.argv.includes('--json')));
}
