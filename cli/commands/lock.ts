import type { Command } from 'commander';
import type { LockJson } from '../../api-contract/index.ts';
import { apiClient, clientCommand, wantsJson } from '../client-command.ts';
import { lockLine } from '../format/deploy-text.ts';
import { printResult } from '../output.ts';

export function lockCommand(): Command {
  const command = clientCommand('lock', 'lock a service: deploys are refused until it is unlocked')
    .argument('<service>', 'service name')
    .requiredOption('--reason <text>', 'why (shown to whoever tries to deploy)')
    .action(async (service: string, options: { reason: string }) => {
      const lock = await apiClient(command).post<LockJson>(`/v1/services/${encodeURIComponent(service)}/lock`, { reason: options.reason });
      printResult(wantsJson(command), lock, () => `${service} ${lockLine(lock)}`);
    });
  return command;
}

export function unlockCommand(): Command {
  const command = clientCommand('unlock', 'unlock a service: deploys are allowed again')
    .argument('<service>', 'service name')
    .action(async (service: string) => {
      const lock = await apiClient(command).delete<LockJson>(`/v1/services/${encodeURIComponent(service)}/lock`);
      printResult(wantsJson(command), lock, () => `unlocked ${service} (was ${lockLine(lock)})`);
    });
  return command;
}
