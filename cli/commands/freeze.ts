import { Command } from 'commander';
import type { FreezeJson, FreezeListJson } from '../../api-contract/index.ts';
import { apiClient, clientCommand, wantsJson } from '../client-command.ts';
import { freezeLine } from '../format/delivery-text.ts';
import { table } from '../format/table.ts';
import { printResult } from '../output.ts';

interface AddOptions {
  service?: string;
  from?: string;
  until?: string;
  weekly?: string;
  tz?: string;
  reason: string;
}

function addCommand(): Command {
  const command = clientCommand('add', 'freeze deploys of a service (or of every service): one-off (--until) or weekly (--weekly "Fri 16:00-Mon 08:00" --tz Europe/Paris); rollbacks are never frozen')
    .option('--service <name>', 'only this service (default: every service)')
    .option('--from <time>', 'one-off: from (ISO 8601, default now)')
    .option('--until <time>', 'one-off: until (ISO 8601, e.g. 2026-12-27T08:00:00+01:00)')
    .option('--weekly <window>', 'recurring: e.g. "Fri 16:00-Mon 08:00"')
    .option('--tz <zone>', 'time zone of --weekly (IANA, e.g. Europe/Paris; default UTC)')
    .requiredOption('--reason <text>', 'why (shown to whoever tries to deploy)')
    .action(async (options: AddOptions) => {
      const freeze = await apiClient(command).post<FreezeJson>('/v1/freezes', {
        reason: options.reason,
        ...(options.service === undefined ? {} : { service: options.service }),
        ...(options.from === undefined ? {} : { from: isoTime(options.from) }),
        ...(options.until === undefined ? {} : { until: isoTime(options.until) }),
        ...(options.weekly === undefined ? {} : { weekly: options.weekly }),
        ...(options.tz === undefined ? {} : { timeZone: options.tz }),
      });
      printResult(wantsJson(command), freeze, () => `added ${freezeLine(freeze)}`);
    });
  return command;
}

/** A time without an offset is taken as UTC, so `--until 2026-12-27T08:00` means what it says on any machine. */
function isoTime(text: string): string {
  return /[zZ]|[+-]\d{2}:?\d{2}$/.test(text) ? text : `${text}Z`;
}

function listCommand(): Command {
  const command = clientCommand('list', 'freeze windows not removed and not over, and whether each is on now')
    .option('--service <name>', "this service's and the global ones")
    .action(async (options: { service?: string }) => {
      const result = await apiClient(command).get<FreezeListJson>(`/v1/freezes${options.service === undefined ? '' : `?service=${encodeURIComponent(options.service)}`}`);
      printResult(wantsJson(command), result, () =>
        result.freezes.length === 0
          ? 'no freeze windows'
          : table(
              ['ID', 'SERVICE', 'WHEN', 'ON', 'REASON'],
              result.freezes.map((f) => [f.id, f.service ?? '*', f.kind === 'weekly' ? `weekly ${f.weekly} ${f.timeZone}` : `${f.startsAt} to ${f.endsAt}`, f.activeUntil ? `until ${f.activeUntil}` : 'no', f.reason]),
            ),
      );
    });
  return command;
}

function removeCommand(): Command {
  const command = clientCommand('remove', 'remove a freeze window')
    .argument('<id>', 'freeze id, e.g. f3')
    .action(async (id: string) => {
      const freeze = await apiClient(command).delete<FreezeJson>(`/v1/freezes/${encodeURIComponent(id)}`);
      printResult(wantsJson(command), freeze, () => `removed ${freezeLine(freeze)}`);
    });
  return command;
}

export function freezeCommand(): Command {
  return new Command('freeze').description('deploy freeze windows (add, list, remove); rollbacks are always allowed').addCommand(addCommand()).addCommand(listCommand()).addCommand(removeCommand());
}
