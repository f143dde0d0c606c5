import type { Command } from 'commander';
import { auditCommand } from './commands/audit.ts';
import { buildCommand } from './commands/build.ts';
import { buildsCommand } from './commands/builds.ts';
import { cancelCommand } from './commands/cancel.ts';
import { deployCommand } from './commands/deploy.ts';
import { deploymentCommand } from './commands/deployment.ts';
import { deploymentsCommand } from './commands/deployments.ts';
import { lockCommand, unlockCommand } from './commands/lock.ts';
import { rollbackCommand } from './commands/rollback.ts';
import { statusCommand } from './commands/status.ts';
import { logsCommand } from './commands/logs.ts';
import { serviceCommand } from './commands/service.ts';
import { replicateCommand } from './commands/replicate.ts';
import { showCommand } from './commands/show.ts';
import { freezeCommand, unfreezeCommand } from './commands/freeze.ts';

/** The commands that talk to the coordinator's HTTP API (DESIGN.md, "Client commands"). */
export function clientCommands(): Command[] {
  return [serviceCommand(), buildCommand(), buildsCommand(), showCommand(), logsCommand(), cancelCommand(), replicateCommand(), deployCommand(), deploymentsCommand(), deploymentCommand(), rollbackCommand(), statusCommand(), lockCommand(), unlockCommand(), freezeCommand(), unfreezeCommand(), auditCommand()];
}
