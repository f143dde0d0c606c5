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

/** What `freeze SERVICE` without --until means: on until `fleetcast unfreeze` (the windows need an end). */
export const untilUnfrozen = '9999-12-31T00:00:00.000Z';

interface TargetOptions {
  all?: boolean;
}

/** SERVICE or --all (exactly one), as DESIGN.md's `freeze SERVICE|--all` and `unfreeze` take them. */
function target(command: Command, service: string | undefined, options: TargetOptions): string | null {
  if ((service === undefined) === (options.all !== true)) {
    command.error('error: name a SERVICE or give --all (one of them)', { exitCode: 2, code: 'fleetcast.freezeTarget' });
  }
  return service ?? null;
}

/**
 * `fleetcast freeze SERVICE|--all --reason T [--until TIME]` (DESIGN.md's form): a one-off freeze
 * from now, until TIME or until `fleetcast unfreeze`; the subcommands manage windows of every kind.
 * Its options count only before a subcommand's name (positional options, enabled from the
 * program down), so `freeze add --reason …` is add's.
 */
export function freezeCommand(): Command {
  const command = clientCommand('freeze', 'freeze deploys of SERVICE (or --all) until --until or `fleetcast unfreeze`; add, list and remove manage windows, weekly ones too; rollbacks are always allowed')
    .enablePositionalOptions()
    .argument('[service]', 'the service to freeze')
    .option('--all', 'every service')
    .option('--reason <text>', 'why (shown to whoever tries to deploy)')
    .option('--until <time>', 'until (ISO 8601; default: until fleetcast unfreeze)')
    .action(async (service: string | undefined, options: TargetOptions & { reason?: string; until?: string }) => {
      const only = target(command, service, options);
      if (options.reason === undefined) command.error("error: required option '--reason <text>' not specified", { exitCode: 2, code: 'fleetcast.missingReason' });
      const freeze = await apiClient(command).post<FreezeJson>('/v1/freezes', {
        reason: options.reason,
        ...(only === null ? {} : { service: only }),
        until: options.until === undefined ? untilUnfrozen : isoTime(options.until),
      });
      printResult(wantsJson(command), freeze, () => `added ${freezeLine(freeze)}`);
    });
  return command.addCommand(addCommand()).addCommand(listCommand()).addCommand(removeCommand());
}

/** `fleetcast unfreeze SERVICE|--all`: removes the one-off and weekly windows of that service (or the global ones) that are on or to come. */
export function unfreezeCommand(): Command {
  const command = clientCommand('unfreeze', "remove SERVICE's freeze windows (--all: the ones of every service); deploys go again unless another window is on")
    .argument('[service]', 'the service')
    .option('--all', 'the windows set for every service')
    .action(async (service: string | undefined, options: TargetOptions) => {
      const only = target(command, service, options);
      const client = apiClient(command);
      const listed = await client.get<FreezeListJson>(`/v1/freezes${only === null ? '' : `?service=${encodeURIComponent(only)}`}`);
      const removed: FreezeJson[] = [];
      for (const freeze of listed.freezes.filter((f) => f.service === only)) removed.push(await client.delete<FreezeJson>(`/v1/freezes/${encodeURIComponent(freeze.id)}`));
      printResult(wantsJson(command), { removed }, () => (removed.length === 0 ? `no freeze windows of ${only ?? 'every service'}` : removed.map((f) => `removed ${freezeLine(f)}`).join('\n')));
    });
  return command;
}
